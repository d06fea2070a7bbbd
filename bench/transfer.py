#!/usr/bin/python3
"""`make bench`, part 2: one seeder -> one leecher over loopback, Docket vs aria2c vs libtorrent.

Every system runs the same way: a seeder process and a leecher process of its own, the same .torrent
(same piece length), announcing to the same opentracker (whitelist mode). The time runs from the
leecher's start until it reports the whole file verified (Docket and libtorrent print `complete`,
aria2c runs its --on-bt-download-complete hook); the copy is compared byte for byte afterwards.
CPU is user+system seconds of seeder and leecher over that time (/proc/<pid>/stat), per GB moved.
Best of RUNS after one warm-up, per system.

usage: transfer.py WORKDIR FILE TORRENT TRACKER_PORT DOCKET_BENCH [RUNS]
"""
import filecmp
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import time
import urllib.request

TICKS = os.sysconf("SC_CLK_TCK")


def cpu(pid):
    """User + system CPU seconds of a live process."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def wait_for_line(process, word, timeout):
    """Reads the process's stdout until a line containing `word`; returns the time it arrived."""
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 0.5)
        if ready:
            line = process.stdout.readline()
            if not line:
                break
            seen.append(line.decode(errors="replace").rstrip())
            if word in seen[-1]:
                return time.monotonic()
    raise RuntimeError(f"no '{word}' from {process.args[0]} within {timeout} s: {seen[-5:]}")


def stop(process):
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def tracker_lists_peer(port, info_hash_hex):
    escaped = "".join(f"%{info_hash_hex[i:i + 2]}" for i in range(0, 40, 2))
    try:
        body = urllib.request.urlopen(f"http://127.0.0.1:{port}/scrape?info_hash={escaped}", timeout=2).read()
    except OSError:
        return False
    listed = re.search(rb"8:completei(\d+)e", body)
    return bool(listed) and int(listed.group(1)) > 0


def systems(work, file, torrent, docket_bench):
    aria2 = ["aria2c", "--no-conf", "--enable-dht=false", "--enable-dht6=false", "--bt-enable-lpd=false",
             "--enable-peer-exchange=false", "--bt-external-ip=127.0.0.1", "--summary-interval=0",
             "--console-log-level=warn", "--file-allocation=none", "--bt-max-peers=0", "--allow-overwrite=true",
             "--auto-save-interval=0"]
    lt = ["/usr/bin/python3", os.path.join(os.path.dirname(os.path.abspath(__file__)), "lt_transfer.py")]
    seed_dir = os.path.dirname(file)
    return {
        "docket": (
            [docket_bench, "seed", torrent, file], "seeding",
            lambda leech: [docket_bench, "leech", torrent, leech], "complete"),
        "aria2c": (
            aria2 + [f"--dir={seed_dir}", "--listen-port=41100-41199", "--seed-ratio=0.0", "--bt-seed-unverified=true",
                     "--check-integrity=false", "--on-bt-download-complete=/bin/echo", torrent], None,
            lambda leech: aria2 + [f"--dir={leech}", "--listen-port=41200-41299", "--seed-time=0",
                                   "--on-bt-download-complete=/bin/echo", torrent], os.path.basename(file)),
        "libtorrent": (
            lt + ["seed", torrent, file], "seeding",
            lambda leech: lt + ["leech", torrent, leech], "complete"),
    }


def main():
    work, file, torrent, tracker_port, docket_bench = sys.argv[1:6]
    runs = int(sys.argv[6]) if len(sys.argv) > 6 else 3
    only = os.environ.get("BENCH_SYSTEMS", "docket,aria2c,libtorrent").split(",")
    info_hash = open(os.path.join(work, "ot", "whitelist")).read().split()[0]
    size = os.path.getsize(file)
    name = os.path.basename(file)
    results = []
    for system, (seed_cmd, seed_ready, leech_cmd, done_word) in systems(work, file, torrent, docket_bench).items():
        if system not in only:
            continue
        seeder = subprocess.Popen(seed_cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        best = None
        try:
            if seed_ready:
                wait_for_line(seeder, seed_ready, 60)
            deadline = time.monotonic() + 60
            while not tracker_lists_peer(tracker_port, info_hash):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{system} seeder never reached the tracker")
                time.sleep(0.1)
            for run in range(runs + 1):
                leech_dir = os.path.join(work, f"leech-{system}")
                shutil.rmtree(leech_dir, ignore_errors=True)
                os.makedirs(leech_dir)
                seeder_cpu0 = cpu(seeder.pid)
                start = time.monotonic()
                leecher = subprocess.Popen(leech_cmd(leech_dir), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                           stdin=subprocess.DEVNULL)
                try:
                    end = wait_for_line(leecher, done_word, 120)
                    used = cpu(leecher.pid) + cpu(seeder.pid) - seeder_cpu0
                finally:
                    stop(leecher)
                copy = os.path.join(leech_dir, name)
                if not filecmp.cmp(copy, file, shallow=False):
                    raise RuntimeError(f"{system}: the leecher's copy differs from the source")
                wall = end - start
                label = "warm-up" if run == 0 else f"run {run}"
                print(f"  {system:<10} {label:<7} {wall:6.2f} s  {size / 1e6 / wall:6.0f} MB/s  CPU {used / (size / 1e9):5.2f} s/GB",
                      flush=True)
                if run > 0 and (best is None or wall < best[0]):
                    best = (wall, used)
        finally:
            stop(seeder)
        results.append((system, best))
    print()
    print(f"loopback 1 -> 1, {size / 1e6:.0f} MB, same .torrent and opentracker, best of {runs} after a warm-up")
    print(f"{'system':<12}{'seconds':>9}{'MB/s':>8}{'CPU s/GB':>10}")
    for system, (wall, used) in results:
        print(f"{system:<12}{wall:>9.2f}{size / 1e6 / wall:>8.0f}{used / (size / 1e9):>10.2f}")


if __name__ == "__main__":
    main()
