"""Server memory while a large file is uploaded into an S3 bucket, against the same upload into
the media folder.

    python bench/s3_upload_bench.py [--upload-gib 1] [--part-mb 8]

Starts moto's S3 server (``moto[server]``, in the dev extra) as a process on 127.0.0.1, then Aura
under waitress in a child process twice on the same prepared site: media in the folder, then
media in the bucket. The same file goes through the supervisor's upload form to each; the
benchmark prints Aura's memory (RSS) before and at its peak, and checks that the bucket holds
the whole object and no unfinished multipart upload. A flat figure for the bucket means the
upload is sent part by part as it arrives, never held whole.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import stream_bench  # noqa: E402 - the site, the upload and the memory sampler are the same

MIB = stream_bench.MIB
GIB = stream_bench.GIB
BUCKET = "aura-bench"
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "aura-bench-key",
    "AWS_SECRET_ACCESS_KEY": "aura-bench-secret",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}


def settings(args: argparse.Namespace) -> dict:
    values = stream_bench.settings(args.serve)
    if args.storage == "s3":
        values.update(
            MEDIA_STORAGE="s3",
            S3_ENDPOINT=args.endpoint,
            S3_BUCKET=BUCKET,
            S3_REGION="us-east-1",
            S3_ADDRESSING="path",
            S3_PART_SIZE=args.part_mb * MIB,
        )
    return values


def serve(args: argparse.Namespace) -> None:
    """Child process: Aura under waitress, with the storage asked for."""
    import logging

    from waitress import serve as waitress_serve

    from aura import create_app

    logging.disable(logging.WARNING)
    app = create_app(settings(args))
    waitress_serve(
        app,
        host="127.0.0.1",
        port=args.port,
        threads=stream_bench.THREADS,
        max_request_body_size=app.config["MAX_CONTENT_LENGTH"],  # as `aura serve` sets it
        channel_timeout=120,
        _quiet=True,
    )


class Aura:
    def __init__(self, instance: str, storage: str, endpoint: str, part_mb: int) -> None:
        self.port = stream_bench.free_port()
        command = [sys.executable, __file__, "--serve", instance, "--port", str(self.port)]
        command += ["--storage", storage, "--endpoint", endpoint, "--part-mb", str(part_mb)]
        self.process = subprocess.Popen(command, cwd=ROOT)
        stream_bench.wait_for_port(self.port, self.process)
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def moto_server(port: int) -> subprocess.Popen:
    binary = shutil.which("moto_server") or os.path.join(
        os.path.dirname(sys.executable), "moto_server"
    )
    if not os.path.exists(binary):
        raise SystemExit("moto_server is not installed: pip install -e '.[dev]'")
    return subprocess.Popen(
        [binary, "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--upload-gib", type=float, default=1.0)
    parser.add_argument("--part-mb", type=int, default=8)
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--storage", default="local", help=argparse.SUPPRESS)
    parser.add_argument("--endpoint", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.update(CREDENTIALS)
    if args.serve:
        serve(args)
        return

    import boto3

    size = int(args.upload_gib * GIB)
    workdir = tempfile.mkdtemp(prefix="aura-s3-bench-")
    servers = []
    try:
        port = stream_bench.free_port()
        moto = moto_server(port)
        stream_bench.wait_for_port(port, moto)
        endpoint = f"http://127.0.0.1:{port}"
        bucket = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
        bucket.create_bucket(Bucket=BUCKET)
        logging.getLogger("alembic").setLevel(logging.WARNING)
        stream_bench.prepare(workdir, 1 * MIB)
        print(
            f"Aura upload memory — {args.upload_gib:.1f} GiB through the supervisor's form, "
            f"waitress ({stream_bench.THREADS} threads), S3 parts of {args.part_mb} MiB, "
            f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}\n"
        )
        for storage in ("local", "s3"):
            aura = Aura(workdir, storage, endpoint, args.part_mb)
            servers.append(aura)
            pids = [aura.process.pid] + ([moto.pid] if storage == "s3" else [])
            before = {pid: stream_bench.rss_mib(pid) for pid in pids}
            sampler = stream_bench.PeakRss(*pids)
            status, seconds = stream_bench.upload(aura.url, size)
            peak = sampler.stop()
            line = f"   {storage:5}  Aura {before[aura.process.pid]:6.1f} -> "
            line += f"{peak[aura.process.pid]:6.1f} MiB   answer {status}   {seconds:5.1f} s"
            line += f" ({size / MIB / seconds:.0f} MiB/s)"
            if storage == "s3":
                line += f"   moto {before[moto.pid]:6.1f} -> {peak[moto.pid]:6.1f} MiB"
            print(line)
            aura.stop()
            servers.remove(aura)
        objects = bucket.list_objects_v2(Bucket=BUCKET).get("Contents", [])
        unfinished = bucket.list_multipart_uploads(Bucket=BUCKET).get("Uploads", [])
        sizes = sorted(item["Size"] for item in objects)
        print(
            f"\n   bucket: {len(objects)} object(s) of {sizes} bytes (expected one of {size}), "
            f"{len(unfinished)} unfinished multipart upload(s)"
        )
        if sizes != [size] or unfinished:
            raise SystemExit("the bucket does not hold exactly the uploaded file")
    finally:
        for server in servers:
            server.stop()
        if "moto" in locals():
            moto.terminate()
            moto.wait(timeout=10)
        time.sleep(0.1)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
