"""Prints template.yaml after the SAM transform, as CloudFormation JSON.

checkov reads the template as written; this lets run.sh also check what SAM
generates from it (the API stage, rules, schedules, permissions, function
properties). CodeUri is replaced by a placeholder S3 URI exactly as
`sam validate` does, since the transform wants packaged code. Runs offline.

usage: python sam_transform.py TEMPLATE > transformed.json
"""

import json
import sys

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse


class NoManagedPolicies:
    """The template names no managed policies, so nothing needs IAM lookups."""

    def load(self):
        return {}


def main() -> int:
    with open(sys.argv[1], encoding="utf-8") as f:
        template = yaml_parse(f.read())
    for resource in template.get("Resources", {}).values():
        if resource.get("Type") == "AWS::Serverless::Function":
            resource.setdefault("Properties", {})["CodeUri"] = "s3://placeholder/code.zip"
    json.dump(transform(template, {}, NoManagedPolicies()), sys.stdout, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
