// node --test for the pull request's access-diff comment (.github/scripts/access-diff-comment.js).
//
// `StandInGitHub` is a STAND-IN for the Octokit client actions/github-script hands a script: it
// keeps issue comments in memory in the shape GitHub's REST API returns them ({id, body, user:
// {login, type}}, per "REST API endpoints for issue comments"), pages them like `github.paginate`,
// and records every call.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

const { MARKER, BOT, commentBody, upsertComment } = require(path.join(__dirname, "..", "..", ".github", "scripts", "access-diff-comment.js"));

class StandInGitHub {
  constructor(comments) {
    this.comments = comments.map((c) => ({ ...c }));
    this.calls = [];
    this.nextId = 1000;
    const self = this;
    this.rest = {
      issues: {
        async listComments({ page = 1, per_page = 30 }) {
          self.calls.push(["list", page]);
          return { data: self.comments.slice((page - 1) * per_page, page * per_page) };
        },
        async updateComment({ comment_id, body }) {
          self.calls.push(["update", comment_id]);
          self.comments.find((c) => c.id === comment_id).body = body;
          return { data: {} };
        },
        async createComment({ body }) {
          const comment = { id: self.nextId++, body, user: { login: BOT, type: "Bot" } };
          self.calls.push(["create", comment.id]);
          self.comments.push(comment);
          return { data: comment };
        },
      },
    };
  }

  // github.paginate(method, params): every page's items, as Octokit's paginate does.
  async paginate(method, params) {
    const items = [];
    for (let page = 1; ; page++) {
      const { data } = await method({ ...params, page });
      items.push(...data);
      if (data.length < params.per_page) return items;
    }
  }
}

const PR = { owner: "clarivum", repo: "ops-hub-iac", issueNumber: 7 };
const bot = (id, body) => ({ id, body, user: { login: BOT, type: "Bot" } });
const person = (id, body) => ({ id, body, user: { login: "reviewer", type: "User" } });

test("the first run creates the comment", async () => {
  const github = new StandInGitHub([person(1, "LGTM")]);
  const done = await upsertComment({ github, ...PR, body: `${MARKER}\nfirst` });
  assert.equal(done.action, "created");
  assert.deepEqual(github.comments.map((c) => c.body), ["LGTM", `${MARKER}\nfirst`]);
});

test("a later run updates its own comment and nothing else", async () => {
  const github = new StandInGitHub([
    bot(1, "Pulumi preview: 3 to update"), // another comment of the same bot
    person(2, `quoting ${MARKER}`), // a person quoting the marker
    bot(3, `${MARKER}\nold diff`),
  ]);
  const done = await upsertComment({ github, ...PR, body: `${MARKER}\nnew diff` });
  assert.deepEqual(done, { action: "updated", id: 3 });
  assert.deepEqual(github.comments.map((c) => c.body), ["Pulumi preview: 3 to update", `quoting ${MARKER}`, `${MARKER}\nnew diff`]);
  assert.deepEqual(github.calls.filter((c) => c[0] !== "list"), [["update", 3]]);
});

test("our comment is found past the first page", async () => {
  const many = Array.from({ length: 150 }, (_, i) => person(i + 1, `comment ${i}`));
  const github = new StandInGitHub([...many, bot(999, `${MARKER}\nold`)]);
  const done = await upsertComment({ github, ...PR, body: `${MARKER}\nnew` });
  assert.deepEqual(done, { action: "updated", id: 999 });
  assert.deepEqual(github.calls.filter((c) => c[0] === "list").map((c) => c[1]), [1, 2]);
});

function files(diff, error) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "access-diff-"));
  const diffFile = path.join(dir, "access-diff.md");
  const errorFile = path.join(dir, "access-diff.err");
  if (diff !== null) fs.writeFileSync(diffFile, diff);
  if (error !== null) fs.writeFileSync(errorFile, error);
  return { diffFile, errorFile, runUrl: "https://example.invalid/run/1" };
}

test("a failing diff is still posted, and says the job fails", () => {
  const body = commentBody({ ...files(`${MARKER}\n## Access diff\nwidens`, ""), exitCode: "1" });
  assert.ok(body.startsWith(`${MARKER}\n## Access diff\nwidens`));
  assert.match(body, /new mandatory policy finding: this job fails/);
});

test("a clean diff is posted as it is", () => {
  const body = commentBody({ ...files(`${MARKER}\n## Access diff\nNo access change.\n`, ""), exitCode: "0" });
  assert.equal(body, `${MARKER}\n## Access diff\nNo access change.\n`);
});

test("a revision that does not plan gets a comment with the error", () => {
  const body = commentBody({ ...files(null, "revision abc: 1 problem\n  - does not plan"), exitCode: "2" });
  assert.ok(body.startsWith(MARKER));
  assert.match(body, /could not be computed \(exit 2\)/);
  assert.match(body, /revision abc: 1 problem/);
});
