"""
``make demo``: the main job end to end on embedded defaults, no Apple credentials needed.

Starts the Apple Music emulator and moto's S3 server on loopback, makes a throwaway SQLite
Airflow home in ``.demo/``, runs the example DAGs with ``airflow dags test``, reads the export
back from S3 and prints it, then stops the servers.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from local_servers import emulator_process, s3_process

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
DEMO_HOME = os.path.join(ROOT, ".demo", "airflow")
BUCKET = "applemusic-exports"
ALBUMS = 2000
LOGICAL_DATE = "2024-03-05"  # its run exports the additions of that day
ADDED_DAY = LOGICAL_DATE


def airflow(*args: str, env: dict[str, str]) -> None:
    print(f"\n$ airflow {' '.join(args)}", flush=True)
    completed = subprocess.run(
        [sys.executable, "-m", "airflow", *args], env=env, capture_output=True, text=True
    )
    tail = (completed.stdout + completed.stderr).strip().splitlines()[-8:]
    print("\n".join(f"  {line[:160]}" for line in tail))
    if completed.returncode != 0:
        print((completed.stdout + completed.stderr)[-6000:])
        raise SystemExit(f"airflow {args[0]} {args[1] if len(args) > 1 else ''} failed")


def main() -> int:
    import boto3

    from airflow_provider_applemusic.emulator import AppleMusicEmulator

    shutil.rmtree(DEMO_HOME, ignore_errors=True)
    os.makedirs(DEMO_HOME)
    with emulator_process(albums=ALBUMS, latency_ms=10, add_delay=3) as conn, s3_process() as s3_url:
        print(f"Apple Music emulator on {conn['host']} ({ALBUMS} albums); S3 (moto) on {s3_url}")
        env = {
            **os.environ,
            "AIRFLOW_HOME": DEMO_HOME,
            "AIRFLOW__CORE__DAGS_FOLDER": os.path.join(ROOT, "example_dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{DEMO_HOME}/airflow.db",
            "AIRFLOW_CONN_APPLE_MUSIC_DEFAULT": json.dumps(conn),
            "AIRFLOW_CONN_AWS_DEFAULT": json.dumps(
                {"conn_type": "aws", "extra": {"endpoint_url": s3_url, "region_name": "us-east-1"}}
            ),
            "AIRFLOW_VAR_APPLEMUSIC_BUCKET": BUCKET,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "demo",
            "AWS_SECRET_ACCESS_KEY": "demo",
        }
        s3 = boto3.client(
            "s3",
            endpoint_url=s3_url,
            region_name="us-east-1",
            aws_access_key_id="demo",
            aws_secret_access_key="demo",
        )
        s3.create_bucket(Bucket=BUCKET)
        airflow("db", "migrate", env=env)
        airflow("pools", "set", "apple_music", "4", "Apple Music API", env=env)
        airflow("dags", "test", "applemusic_library_export", LOGICAL_DATE, env=env)

        # the emulator is deterministic: the same seed and size give the same catalog, and the
        # DAG's default ids are albums of this catalog not yet in the library
        to_add = AppleMusicEmulator(albums=ALBUMS).catalog_ids("albums")[:2]
        airflow("dags", "test", "applemusic_add_and_wait", env=env)

        snapshots = s3.list_objects_v2(Bucket=BUCKET, Prefix="albums/snapshot/")["Contents"]
        key = max(snapshots, key=lambda item: item["LastModified"])["Key"]
        body = gzip.decompress(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())
        albums = [json.loads(line) for line in body.decode("utf-8").splitlines()]
        additions = s3.get_object(Bucket=BUCKET, Key=f"albums/added/{ADDED_DAY}.jsonl")
        added_count = len(additions["Body"].read().splitlines())
        print("\n=== Demo result ===")
        print(f"s3://{BUCKET}/{key}: {len(albums)} albums")
        print(f"s3://{BUCKET}/albums/added/{ADDED_DAY}.jsonl: {added_count} albums added that day")
        for album in albums[:3]:
            attributes = album["attributes"]
            print(f"  {album['id']}  {attributes['name']} - {attributes['artistName']}")
        print(f"added to the library and seen there: albums {', '.join(to_add)}")
    print(DEPLOYMENT_HINT.format(albums=ALBUMS, bucket=BUCKET))
    return 0


DEPLOYMENT_HINT = """
=== On your own Airflow deployment ===
Start the same emulator (it prints its connection line and catalog ids you can add):
  python -m airflow_provider_applemusic.emulator --albums {albums}
then, with AIRFLOW_CONN_APPLE_MUSIC_DEFAULT set as it prints, an aws_default connection and the
Variable applemusic_bucket={bucket}:
  airflow pools set apple_music 2 "Apple Music API"
  airflow dags trigger applemusic_add_and_wait          # its default ids are in this catalog
  airflow dags trigger applemusic_library_export        # the 24 hours before now (new adds only)
  airflow backfill create --dag-id applemusic_library_export --from-date 2024-03-01 --to-date 2024-03-31
(the emulator's albums were added during 2024: the backfill finds them, one file a day)
"""


if __name__ == "__main__":
    sys.exit(main())
