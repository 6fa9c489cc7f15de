"""`make deploy` / `make destroy`: one stage of Baogong on AWS (global or China regions), with boto3.

    python -m scripts.deploy deploy --stage prod [--domain D --certificate C] [--sub-district NAME] ...
    python -m scripts.deploy destroy --stage prod [--yes]

Deploy, from what `make package STAGE=<stage>` left in build/package (app.json, data.json, deployment.zip):

1. the data stack baogong-<stage>-data (the table; termination protection on);
2. the SSM SecureStrings /baogong/<stage>/token-secret and /vapid-private-key, created once with a
   random value (CloudFormation cannot create SecureStrings) and never overwritten;
3. the artifacts bucket baogong-<stage>-artifacts-<account> with deployment.zip and the app template
   (content-addressed keys; the template is too big to send inline);
4. the app stack baogong-<stage>: functions, API, schedules, buckets, CloudFront, roles, alarms
   (a second update sets PublicUrl to the distribution's address when there is no custom domain);
5. the PWA (frontend/) into the site bucket with its cache headers, then a CloudFront invalidation;
6. the first admin (scripts/bootstrap_admin.py) when the table is new, or when --sub-district is given;
7. a summary: the address, DNS to set, the admin's sign-in link, what was created or kept.

Destroy deletes the app stack (its buckets emptied first), the artifacts bucket and the SSM parameters.
The data stack and its table stay: the table has deletion protection and DeletionPolicy Retain.

Credentials and region come from boto3's usual chain (AWS_PROFILE, AWS_ACCESS_KEY_ID…, AWS_REGION or
AWS_DEFAULT_REGION, ~/.aws/config); AWS_ENDPOINT_URL (the tests' moto server) is honoured too.
"""
import argparse
import hashlib
import json
import mimetypes
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import boto3
from botocore.exceptions import BotoCoreError, ClientError, WaiterError

ROOT = Path(__file__).resolve().parent.parent
PACKAGE_DIR = ROOT / "build" / "package"
FRONTEND = ROOT / "frontend"

# Fetched again on every visit (revalidated with their ETag): the entry points, which name everything else.
ENTRY_FILES = ("index.html", "sw.js", "manifest.webmanifest")
NO_CACHE = "no-cache"
# A file whose path carries its version (vendor/uplot-1.6.32/…) never changes under that name.
VERSIONED = re.compile(r"(^|/)[^/]*-\d+\.\d+(\.\d+)?(/|\.[a-z]+$)")
IMMUTABLE = "public, max-age=31536000, immutable"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8", ".json": "application/json", ".webmanifest": "application/manifest+json",
    ".png": "image/png", ".svg": "image/svg+xml", ".ico": "image/x-icon", ".txt": "text/plain; charset=utf-8",
    ".woff2": "font/woff2", ".map": "application/json", "": "text/plain; charset=utf-8",
}
# Reserved concurrency planned by infra/template.yaml's defaults (API, export worker, two schedules), and
# the unreserved executions Lambda insists on keeping: the account's quota must cover both.
RESERVED = 100 + 5 + 1 + 1
UNRESERVED_MINIMUM = 100


class DeployError(Exception):
    pass


def cache_control(key: str) -> str:
    """The Cache-Control a PWA file is uploaded with.

    index.html, sw.js and the manifest: no-cache (always revalidated), so a deploy reaches phones at once.
    Files with a version in their path: a year, immutable. Everything else keeps its name across versions
    (js/app.js…), so it is no-cache as well: a long max-age would let a browser, or the service worker
    filling its new cache, mix old and new modules after a deploy. Revalidation is a cheap 304.
    """
    if key in ENTRY_FILES:
        return NO_CACHE
    if VERSIONED.search(key):
        return IMMUTABLE
    return NO_CACHE


def content_type(key: str) -> str:
    if Path(key).name.upper().endswith("LICENSE"):  # vendor/jsQR.LICENSE, vendor/uplot-1.6.32/LICENSE
        return CONTENT_TYPES[""]
    suffix = Path(key).suffix.lower()
    if suffix in CONTENT_TYPES:
        return CONTENT_TYPES[suffix]
    return mimetypes.guess_type(key)[0] or "application/octet-stream"


def site_files(frontend: Path = FRONTEND) -> list[tuple[str, Path]]:
    """(key, path) of the PWA's files, the entry points last so they never name a file not yet uploaded."""
    files = sorted((p.relative_to(frontend).as_posix(), p) for p in frontend.rglob("*")
                   if p.is_file() and not any(part.startswith(".") for part in p.relative_to(frontend).parts)
                   and p.suffix != ".md")
    order = {name: i for i, name in enumerate(("manifest.webmanifest", "index.html", "sw.js"))}
    return sorted(files, key=lambda kv: (kv[0] in order, order.get(kv[0], -1), kv[0]))


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class Stage:
    """One stage of Baogong in one account and region."""

    def __init__(self, stage: str, session: boto3.Session | None = None, package_dir: Path = PACKAGE_DIR,
                 out=print, wait_delay: int = 15):
        self.stage = stage
        self.session = session or boto3.Session()
        self.region = self.session.region_name
        if not self.region:
            raise DeployError("no AWS region: set AWS_REGION (e.g. cn-north-1 or cn-northwest-1 for China)")
        self.partition = self.session.get_partition_for_region(self.region)
        self.url_suffix = "amazonaws.com.cn" if self.partition == "aws-cn" else "amazonaws.com"
        self.package_dir = package_dir
        self.out = out
        self.wait = {"Delay": wait_delay, "MaxAttempts": 3600 // wait_delay}
        self.data_stack = f"baogong-{stage}-data"
        self.app_stack = f"baogong-{stage}"
        self.table = f"baogong-{stage}"
        self.secret_params = {
            "token-secret": f"/baogong/{stage}/token-secret",
            "vapid-private-key": f"/baogong/{stage}/vapid-private-key",
        }
        self._clients = {}
        self._account = None

    def client(self, service: str):
        if service not in self._clients:
            self._clients[service] = self.session.client(service, region_name=self.region)
        return self._clients[service]

    @property
    def account(self) -> str:
        if self._account is None:
            self._account = self.client("sts").get_caller_identity()["Account"]
        return self._account

    @property
    def artifacts_bucket(self) -> str:
        return f"baogong-{self.stage}-artifacts-{self.account}"

    # ------------------------------------------------------------ stacks
    def stack(self, name: str) -> dict | None:
        try:
            return self.client("cloudformation").describe_stacks(StackName=name)["Stacks"][0]
        except ClientError as err:
            if "does not exist" in str(err):
                return None
            raise

    def outputs(self, name: str) -> dict:
        stack = self.stack(name)
        return {o["OutputKey"]: o["OutputValue"] for o in (stack or {}).get("Outputs", [])}

    def _failure(self, name: str) -> str:
        events = self.client("cloudformation").describe_stack_events(StackName=name)["StackEvents"]
        failed = [f"  {e['LogicalResourceId']} ({e['ResourceType']}): {e.get('ResourceStatusReason', '')}"
                  for e in events if e["ResourceStatus"].endswith("_FAILED")][:10]
        return "\n".join(failed) or "  (no failed resource reported)"

    def ensure_stack(self, name: str, template: dict, parameters: dict, *, protect: bool = False) -> str:
        """Create or update a stack and wait; 'created', 'updated' or 'unchanged'."""
        cfn = self.client("cloudformation")
        body = json.dumps(template, separators=(",", ":"), ensure_ascii=False)
        if len(body.encode()) > 51_200:
            key = f"{self.stage}/{name}-{hashlib.sha256(body.encode()).hexdigest()[:16]}.json"
            self.client("s3").put_object(Bucket=self.artifacts_bucket, Key=key, Body=body.encode(),
                                         ContentType="application/json")
            source = {"TemplateURL": f"https://{self.artifacts_bucket}.s3.{self.region}.{self.url_suffix}/{key}"}
        else:
            source = {"TemplateBody": body}
        args = dict(StackName=name, Parameters=[{"ParameterKey": k, "ParameterValue": str(v)}
                                                for k, v in parameters.items()],
                    Capabilities=["CAPABILITY_IAM"], Tags=[{"Key": "app", "Value": "baogong"},
                                                           {"Key": "stage", "Value": self.stage}], **source)
        existing = self.stack(name)
        if existing and existing["StackStatus"] == "ROLLBACK_COMPLETE":
            self.out(f"  {name} failed to create before; deleting it to start again")
            cfn.delete_stack(StackName=name)
            self._wait("stack_delete_complete", name)
            existing = None
        if existing is None:
            slow = " (CloudFront takes 5 to 15 minutes)" if name == self.app_stack else ""
            self.out(f"  creating stack {name}…{slow}")
            cfn.create_stack(EnableTerminationProtection=protect, **args)
            self._wait("stack_create_complete", name)
            return "created"
        if protect and not existing.get("EnableTerminationProtection"):
            self._protect(name)
        self.out(f"  updating stack {name}…")
        try:
            cfn.update_stack(**args)
        except ClientError as err:
            if "No updates are to be performed" in str(err):
                return "unchanged"
            raise
        self._wait("stack_update_complete", name)
        return "updated"

    def _protect(self, name: str) -> None:
        try:
            self.client("cloudformation").update_termination_protection(StackName=name,
                                                                        EnableTerminationProtection=True)
        except (ClientError, BotoCoreError) as err:
            self.out(f"  ! could not turn on termination protection of {name}: {err}")

    def _wait(self, waiter: str, name: str) -> None:
        try:
            self.client("cloudformation").get_waiter(waiter).wait(StackName=name, WaiterConfig=self.wait)
        except WaiterError as err:
            raise DeployError(f"stack {name}: {err}\n{self._failure(name)}") from err

    # ------------------------------------------------------------ SSM, artifacts
    def ensure_secret(self, key: str) -> str:
        """The SecureString exists afterwards; 'created' or 'kept' (an existing value is never replaced)."""
        ssm, name = self.client("ssm"), self.secret_params[key]
        try:
            ssm.get_parameter(Name=name)
            return "kept"
        except ClientError as err:
            if err.response["Error"]["Code"] != "ParameterNotFound":
                raise
        ssm.put_parameter(Name=name, Type="SecureString", Overwrite=False, Value=self._new_secret(key),
                          Description=f"Baogong {self.stage}: {key} (made by scripts/deploy.py)")
        return "created"

    @staticmethod
    def _new_secret(key: str) -> str:
        if key == "token-secret":
            return secrets.token_hex(32)
        from py_vapid import Vapid02  # the Web Push key api/push.py reads
        vapid = Vapid02()
        vapid.generate_keys()
        return vapid.private_pem().decode()

    def ensure_artifacts_bucket(self) -> None:
        s3, bucket = self.client("s3"), self.artifacts_bucket
        try:
            s3.head_bucket(Bucket=bucket)
            return
        except ClientError as err:
            if err.response["Error"]["Code"] not in ("404", "NoSuchBucket", "NotFound"):
                raise
        kwargs = {} if self.region == "us-east-1" else {
            "CreateBucketConfiguration": {"LocationConstraint": self.region}}
        s3.create_bucket(Bucket=bucket, **kwargs)
        s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
            "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True})
        s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})

    def upload_code(self) -> str:
        zipped = self.package_dir / "deployment.zip"
        key = f"{self.stage}/deployment-{_sha(zipped)[:16]}.zip"
        s3 = self.client("s3")
        try:
            s3.head_object(Bucket=self.artifacts_bucket, Key=key)
        except ClientError:
            s3.upload_file(str(zipped), self.artifacts_bucket, key)
        return key

    def reserve_concurrency(self) -> bool:
        """Whether the account's Lambda quota leaves room for the reservations (new accounts start at 10)."""
        try:
            limit = self.client("lambda").get_account_settings()["AccountLimit"]["ConcurrentExecutions"]
        except ClientError as err:
            self.out(f"  (could not read the Lambda concurrency quota: {err.response['Error'].get('Code')}; "
                     "reserving as planned)")
            return True
        if limit < RESERVED + UNRESERVED_MINIMUM:
            self.out(f"  ! the account's Lambda concurrency quota is {limit}: reserving {RESERVED} needs "
                     f"{RESERVED + UNRESERVED_MINIMUM}. Deploying without reserved concurrency; ask for a higher "
                     "quota (Service Quotas, AWS Lambda, Concurrent executions) and deploy again.")
            return False
        return True

    # ------------------------------------------------------------ the PWA
    def upload_site(self, bucket: str, frontend: Path = FRONTEND) -> int:
        s3 = self.client("s3")
        files = site_files(frontend)
        for key, path in files:
            s3.upload_file(str(path), bucket, key, ExtraArgs={
                "ContentType": content_type(key), "CacheControl": cache_control(key)})
        return len(files)

    def invalidate(self, distribution_id: str) -> None:
        self.client("cloudfront").create_invalidation(DistributionId=distribution_id, InvalidationBatch={
            "Paths": {"Quantity": 1, "Items": ["/*"]}, "CallerReference": secrets.token_hex(8)})

    # ------------------------------------------------------------ the first admin
    def bootstrap_admin(self, sub_district: str, public_url: str) -> dict:
        env = dict(os.environ, AWS_REGION=self.region, AWS_DEFAULT_REGION=self.region, BAOGONG_STAGE=self.stage,
                   BAOGONG_TABLE=self.table, BAOGONG_TOKEN_SECRET_PARAM=self.secret_params["token-secret"],
                   BAOGONG_PUBLIC_URL=public_url)
        env.pop("BAOGONG_AWS_ENDPOINT", None)
        if self.session.profile_name and self.session.profile_name != "default":
            env["AWS_PROFILE"] = self.session.profile_name
        result = subprocess.run([sys.executable, "-m", "scripts.bootstrap_admin", "--sub-district", sub_district],
                                cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise DeployError(f"creating the first admin failed:\n{result.stderr[-2000:]}")
        found = dict(re.findall(r"^([a-z_ -]+):\s+(\S+)$", result.stdout, flags=re.M))
        return {"sub_district_id": found.get("sub_district_id"), "token": found.get("admin token"),
                "link": found.get("sign-in link")}

    # ------------------------------------------------------------ deploy
    def _templates(self) -> tuple[dict, dict]:
        try:
            app = json.loads((self.package_dir / "app.json").read_text())
            data = json.loads((self.package_dir / "data.json").read_text())
        except FileNotFoundError as err:
            raise DeployError(f"{err.filename} is missing: run make package STAGE={self.stage} first") from err
        built = app.get("Metadata", {}).get("Baogong", {})
        if built.get("stage") != self.stage:
            raise DeployError(f"build/package was made for stage {built.get('stage')!r}, not {self.stage!r}: "
                              f"run make package STAGE={self.stage}")
        if built.get("deployment_zip_sha256") != _sha(self.package_dir / "deployment.zip"):
            raise DeployError("deployment.zip is not the one app.json was built with: run make package again")
        return app, data

    def deploy(self, *, domain: str = "", certificate: str = "", sub_district: str = "", sms: str = "off",
               alarm_email: str = "", reserve: bool = True, frontend: Path = FRONTEND) -> dict:
        app, data = self._templates()
        china = self.partition == "aws-cn"
        if china and not (domain and certificate):
            raise DeployError(
                "CloudFront in the China regions serves only an ICP-filed (备案) custom domain with an IAM server "
                "certificate: pass DOMAIN=… CERTIFICATE=<IAM server certificate ID> (infra/README.md).")
        if domain and not certificate:
            raise DeployError("a custom domain needs its certificate: CERTIFICATE=<ACM ARN in us-east-1>")
        if not china and certificate and not certificate.startswith("arn:aws:acm:us-east-1:"):
            raise DeployError("CloudFront takes ACM certificates from us-east-1 only: "
                              "CERTIFICATE=arn:aws:acm:us-east-1:…")
        new_table = self.stack(self.data_stack) is None
        if new_table and not sub_district:
            raise DeployError("the first deploy of a stage creates its first admin: pass SUB_DISTRICT=<name of the "
                              "街道 / 办事处> (make deploy SUB_DISTRICT=…)")

        out = self.out
        out(f"保供 Baogong: deploying stage {self.stage} to {self.region} ({self.partition}), account {self.account}")
        report = {"stage": self.stage, "region": self.region, "partition": self.partition}
        out("1/6 data stack (the table)")
        report["data_stack"] = self.ensure_stack(self.data_stack, data, {"Stage": self.stage}, protect=True)
        out("2/6 secrets in SSM Parameter Store")
        report["secrets"] = {key: self.ensure_secret(key) for key in self.secret_params}
        out("3/6 code into the artifacts bucket")
        self.ensure_artifacts_bucket()
        code_key = self.upload_code()
        out("4/6 app stack")
        previous = self.outputs(self.app_stack)
        public_url = f"https://{domain}" if domain else previous.get("PublicUrl", "")
        params = {"Stage": self.stage, "CodeBucket": self.artifacts_bucket, "CodeKey": code_key,
                  "DomainName": domain, "CertificateId": certificate, "PublicUrl": "" if domain else public_url,
                  "Sms": sms, "AlarmEmail": alarm_email,
                  "ReserveConcurrency": "true" if reserve and self.reserve_concurrency() else "false"}
        report["app_stack"] = self.ensure_stack(self.app_stack, app, params)
        outputs = self.outputs(self.app_stack)
        if not domain and outputs.get("PublicUrl") and outputs["PublicUrl"] != public_url:
            # Join and invite links need the distribution's address, known only now.
            out(f"  the public address is {outputs['PublicUrl']}: telling the functions")
            self.ensure_stack(self.app_stack, app, dict(params, PublicUrl=outputs["PublicUrl"]))
            outputs = self.outputs(self.app_stack)
        public_url = outputs.get("PublicUrl") or public_url
        report["outputs"] = outputs
        out("5/6 the PWA")
        report["site_files"] = self.upload_site(outputs["SiteBucket"], frontend)
        if outputs.get("DistributionId"):
            self.invalidate(outputs["DistributionId"])
        out("6/6 the first admin")
        if sub_district:
            report["admin"] = dict(self.bootstrap_admin(sub_district, public_url), sub_district=sub_district)
        else:
            out("  the table was there already: no new admin (SUB_DISTRICT=… makes one)")
        report["public_url"] = public_url
        self.summary(report, domain)
        return report

    def summary(self, report: dict, domain: str) -> None:
        o, out = report["outputs"], self.out
        out("")
        out(f"保供 Baogong is deployed: stage {self.stage} in {self.region} ({self.partition})")
        out(f"  open:        {report['public_url'] or '(no address: the distribution is missing)'}")
        if domain:
            out(f"  DNS:         point {domain} (CNAME) at {o.get('DistributionDomain', '?')}")
        out(f"  API direct:  {o.get('EndpointURL', '?')}  (use the address above; this one bypasses CloudFront)")
        out(f"  stacks:      {self.data_stack} ({report['data_stack']}; the table, kept by make destroy), "
            f"{self.app_stack} ({report['app_stack']})")
        out(f"  table:       {self.table} (on demand, PITR, deletion protection)")
        out(f"  buckets:     site {o.get('SiteBucket')}, exports {o.get('ExportsBucket')} (7 days), "
            f"uploads {o.get('UploadsBucket')}; code in {self.artifacts_bucket}")
        out("  secrets:     " + ", ".join(f"{self.secret_params[k]} ({v})" for k, v in report["secrets"].items()))
        out(f"  alarms:      SNS topic {o.get('AlarmTopicArn')} (ALARM_EMAIL=… subscribes an address)")
        out(f"  PWA:         {report['site_files']} files (index.html, sw.js, manifest: no-cache; versioned: 1 year)")
        admin = report.get("admin")
        if admin:
            out(f"  first admin: {admin['sub_district']} (sub_district_id {admin['sub_district_id']})")
            out(f"  sign-in:     {admin['link']}")
            out("               (this link is the admin's key: open it on the admin's phone, do not share it)")
        out(f"  undo:        make destroy STAGE={self.stage}")

    # ------------------------------------------------------------ destroy
    def empty_bucket(self, bucket: str) -> None:
        s3 = self.client("s3")
        try:
            paginator = s3.get_paginator("list_object_versions")
            for page in paginator.paginate(Bucket=bucket):
                items = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                         for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
                for i in range(0, len(items), 1000):
                    s3.delete_objects(Bucket=bucket, Delete={"Objects": items[i:i + 1000], "Quiet": True})
        except ClientError as err:
            if err.response["Error"]["Code"] != "NoSuchBucket":
                raise

    def destroy(self) -> dict:
        out, report = self.out, {}
        out(f"保供 Baogong: destroying stage {self.stage} in {self.region} (the table stays)")
        stack = self.stack(self.app_stack)
        if stack:
            outputs = self.outputs(self.app_stack)
            for key in ("SiteBucket", "ExportsBucket", "UploadsBucket"):
                if outputs.get(key):
                    out(f"  emptying {outputs[key]}")
                    self.empty_bucket(outputs[key])
            out(f"  deleting stack {self.app_stack} (CloudFront takes a while)…")
            self.client("cloudformation").delete_stack(StackName=self.app_stack)
            self._wait("stack_delete_complete", self.app_stack)
            report["app_stack"] = "deleted"
        else:
            report["app_stack"] = "absent"
        try:
            self.empty_bucket(self.artifacts_bucket)
            self.client("s3").delete_bucket(Bucket=self.artifacts_bucket)
            report["artifacts"] = "deleted"
        except ClientError as err:
            if err.response["Error"]["Code"] != "NoSuchBucket":
                raise
            report["artifacts"] = "absent"
        for key, name in self.secret_params.items():
            try:
                self.client("ssm").delete_parameter(Name=name)
                report[key] = "deleted"
            except ClientError as err:
                if err.response["Error"]["Code"] != "ParameterNotFound":
                    raise
                report[key] = "absent"
        out("")
        out(f"Deleted: stack {self.app_stack} ({report['app_stack']}), its buckets and their files, "
            f"{self.artifacts_bucket} ({report['artifacts']}), the SSM parameters.")
        out(f"Kept:    table {self.table} in stack {self.data_stack} (deletion protection and termination "
            "protection on).")
        out("         Tokens signed with the deleted secret no longer work; a new deploy makes a new secret, so")
        out("         deploy again with SUB_DISTRICT=… for an admin. To delete the table too, on purpose:")
        out(f"           aws dynamodb update-table --table-name {self.table} --no-deletion-protection-enabled")
        out(f"           aws dynamodb delete-table --table-name {self.table}")
        out(f"           aws cloudformation update-termination-protection --stack-name {self.data_stack} "
            "--no-enable-termination-protection")
        out(f"           aws cloudformation delete-stack --stack-name {self.data_stack}")
        return report


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Deploy or destroy one stage of Baogong (see README, Deploying).")
    sub = parser.add_subparsers(dest="command", required=True)
    dep = sub.add_parser("deploy", help="both stacks, the PWA and the first admin")
    dep.add_argument("--stage", required=True)
    dep.add_argument("--domain", default="", help="the site's domain; required in China (ICP-filed)")
    dep.add_argument("--certificate", default="",
                     help="China: IAM server certificate ID; global: ACM certificate ARN in us-east-1")
    dep.add_argument("--sub-district", default="",
                     help="create a first admin for this new 街道 (required the first time)")
    dep.add_argument("--sms", choices=("off", "sns"), default="off")
    dep.add_argument("--alarm-email", default="")
    dep.add_argument("--no-reserved-concurrency", action="store_true")
    dep.add_argument("--package-dir", type=Path, default=PACKAGE_DIR)
    des = sub.add_parser("destroy", help="everything of the stage except the table")
    des.add_argument("--stage", required=True)
    des.add_argument("--yes", action="store_true", help="do not ask")
    args = parser.parse_args(argv)
    try:
        if args.command == "deploy":
            Stage(args.stage, package_dir=args.package_dir).deploy(
                domain=args.domain.strip(), certificate=args.certificate.strip(),
                sub_district=args.sub_district.strip(), sms=args.sms, alarm_email=args.alarm_email.strip(),
                reserve=not args.no_reserved_concurrency)
        else:
            stage = Stage(args.stage)
            if not args.yes:
                answer = input(f"Delete stage {args.stage} in {stage.region} (all but the table)? "
                               f"Type {args.stage} to go on: ")
                if answer.strip() != args.stage:
                    print("Nothing deleted.")
                    return 1
            stage.destroy()
    except DeployError as err:
        print(f"deploy: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
