#!/usr/bin/env python3
"""A real S3 on 127.0.0.1 for ec2-boot-init's tests: moto's server (PyPI `moto[server]`), with
signature checking and IAM authorisation on.

It makes a bucket, uploads every file of --files DIR under --prefix, creates an IAM role that
may read the bucket, assumes it (as EC2 does for an instance profile) and writes the role's
temporary credentials, in the shape instance metadata serves them at
iam/security-credentials/<role>, to --credentials FILE (the IMDS simulator serves that file).
Only then is authentication switched on, so every request after set-up must carry a valid
SigV4 signature and the session token. Prints 'PORT n' once ready; runs until killed.
"""
import argparse
import json
import os
import sys
import time


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", required=True, help="folder whose files are uploaded")
    parser.add_argument("--bucket", default="ec2boot-actions")
    parser.add_argument("--prefix", default="boot/")
    parser.add_argument("--region", default="eu-west-1")
    parser.add_argument("--role", default="web-role")
    parser.add_argument("--credentials", required=True, help="where the role's credentials are written (IMDS JSON)")
    parser.add_argument("--parent", type=int, help="exit when this process has gone (a test run that started us)")
    args = parser.parse_args()

    # Set-up runs unauthenticated, through moto's own client stubs against the server.
    os.environ.update(AWS_ACCESS_KEY_ID="setup", AWS_SECRET_ACCESS_KEY="setup", AWS_DEFAULT_REGION=args.region)
    import boto3
    from moto import settings
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    _, port = server.get_host_and_port()
    endpoint = "http://127.0.0.1:%d" % port

    s3 = boto3.client("s3", endpoint_url=endpoint, region_name=args.region)
    s3.create_bucket(Bucket=args.bucket, CreateBucketConfiguration={"LocationConstraint": args.region})
    for name in sorted(os.listdir(args.files)):
        with open(os.path.join(args.files, name), "rb") as f:
            s3.put_object(Bucket=args.bucket, Key=args.prefix + name, Body=f.read())
    iam = boto3.client("iam", endpoint_url=endpoint, region_name=args.region)
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    role = iam.create_role(RoleName=args.role, AssumeRolePolicyDocument=json.dumps(trust))
    read = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
         "Resource": ["arn:aws:s3:::%s" % args.bucket, "arn:aws:s3:::%s/*" % args.bucket]}]}
    iam.put_role_policy(RoleName=args.role, PolicyName="read-actions", PolicyDocument=json.dumps(read))
    sts = boto3.client("sts", endpoint_url=endpoint, region_name=args.region)
    creds = sts.assume_role(RoleArn=role["Role"]["Arn"], RoleSessionName="i-0123456789abcdef0",
                            DurationSeconds=3600)["Credentials"]
    document = {"Code": "Success", "LastUpdated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "Type": "AWS-HMAC",
                "AccessKeyId": creds["AccessKeyId"], "SecretAccessKey": creds["SecretAccessKey"],
                "Token": creds["SessionToken"], "Expiration": creds["Expiration"].strftime("%Y-%m-%dT%H:%M:%SZ")}
    with open(args.credentials + ".tmp", "w") as f:
        json.dump(document, f)
    os.replace(args.credentials + ".tmp", args.credentials)

    # From here on every request is checked: signature, session token, the role's policy.
    settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
    print("PORT %d" % port, flush=True)
    try:
        # The parent's exit reparents us (a zombie parent still has its /proc entry).
        while args.parent is None or os.getppid() == args.parent:
            time.sleep(1)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
