package opshub

import rego.v1

# METADATA
# title: A secret the model rotates by Lambda has its SecretRotation
# description: >-
#   For a secret the access model marks rotation lambda, only a SecretRotation rotates it;
#   an age or error alarm is no substitute, since nobody is expected to rotate it by hand.
# custom:
#   id: OPS-AWS-013
#   severity: high
#   remediation: Declare the SecretRotation VendorSecrets derives for the secret (rotation Lambda and schedule).
stack_deny_lambda_rotated_secret_without_rotation contains f.msg if some f in lambda_rotated_secret_without_rotation

lambda_rotated_secret_without_rotation contains finding(secret, msg) if {
	some secret in aws_secrets
	key := secret_model_key(secret)
	model.secrets[key].rotation == "lambda"
	not has_rotation(secret)
	msg := concat("", ["secret '", key, "' is rotated by Lambda in the model but has no SecretRotation"])
}
