"""Time of one full database-credential rotation, and failed logins while rotations run.

Runs `rotate_postgres` the way the tests do (tests/secrets/rotation_rig.py):
moto's Secrets Manager, the four steps in-process, a real PostgreSQL 15 with
scram-sha-256 logins on loopback. Network latency to Supabase and AWS is not
included, so this measures the handler's own work (connections, SCRAM, SQL).
"""

from __future__ import annotations

import json
import os
import statistics
import threading
import time
from unittest import mock

import boto3
from moto import mock_aws
from moto.awslambda.models import LambdaBackend

from benchmarks.common import Result
from tests.secrets.rotation_rig import REGION, create_rig, in_process_invoke
from tests.support.pgcluster import PgCluster

TITLE = "Database credential rotation (`rotate_postgres`, moto + PostgreSQL 15)"
ROTATIONS = 20
# The rotation Lambda's timeout is 60 s per step; a whole rotation locally should take a small part of it.
TARGET_SECONDS = 5.0
ENV = {
    "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_REGION": REGION,
    "AWS_DEFAULT_REGION": REGION, "PGSSLMODE": "disable",  # the throwaway cluster has no TLS
}


def _login_loop(rig: object, stop: threading.Event, counts: dict[str, int]) -> None:
    sm = boto3.client("secretsmanager", region_name=REGION)
    while not stop.is_set():
        secret = json.loads(sm.get_secret_value(SecretId=rig.arn, VersionStage="AWSCURRENT")["SecretString"])
        counts["logins"] += 1
        counts["failed"] += 0 if rig.logs_in(secret) else 1


def run() -> list[Result]:
    with mock.patch.dict(os.environ, ENV), PgCluster() as cluster, mock_aws():
        rig = create_rig(cluster, cluster.create_database("bench"), 1)
        counts = {"logins": 0, "failed": 0}
        stop = threading.Event()
        with mock.patch.object(LambdaBackend, "invoke", in_process_invoke(rig)):
            worker = threading.Thread(target=_login_loop, args=(rig, stop, counts))
            worker.start()
            times = []
            try:
                for _ in range(ROTATIONS):
                    start = time.perf_counter()
                    rig.rotate()
                    times.append(time.perf_counter() - start)
            finally:
                stop.set()
                worker.join(timeout=30)
    worst = max(times)
    return [
        Result("one rotation (4 steps), median", f"{statistics.median(times):.2f} s", f"<= {TARGET_SECONDS:.0f} s",
               statistics.median(times) <= TARGET_SECONDS, f"{ROTATIONS} rotations"),
        Result("one rotation (4 steps), slowest", f"{worst:.2f} s", f"<= {TARGET_SECONDS:.0f} s", worst <= TARGET_SECONDS,
               f"{ROTATIONS} rotations"),
        Result("failed logins during rotations", str(counts["failed"]), "0", counts["failed"] == 0,
               f"{counts['logins']} logins with AWSCURRENT in a concurrent loop"),
    ]
