"""Create a sub-district and its first admin; print the admin's token and sign-in link.

Everyone else joins through invites the admin sends. Run it against the stage's
AWS account (credentials and BAOGONG_* from the environment, as in
.chalice/config.json), or against a running `make dev` with --local.

    python -m scripts.bootstrap_admin --sub-district "樊城区某某街道"
    python -m scripts.bootstrap_admin --sub-district "示范街道" --local .local/dev.json
"""
import argparse
import json
import os
import sys


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sub-district", required=True, help="name of the 街道 / 办事处")
    parser.add_argument("--local", metavar="DEV_JSON", help="use the moto of a running `make dev`")
    args = parser.parse_args(argv)
    if args.local:
        dev = json.load(open(args.local))
        os.environ.update({"BAOGONG_AWS_ENDPOINT": dev["moto_url"], "BAOGONG_STAGE": "local",
                           "BAOGONG_PUBLIC_URL": dev["base_url"], "AWS_ACCESS_KEY_ID": "local",
                           "AWS_SECRET_ACCESS_KEY": "local"})
    from api import bootstrap, config
    admin = bootstrap.first_admin(args.sub_district.strip())
    print(f"sub_district_id: {admin['sub_district_id']}")
    print(f"admin token:     {admin['token']}")
    print(f"sign-in link:    {config.PUBLIC_URL}/#/signin/{admin['token']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
