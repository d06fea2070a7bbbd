#!/usr/bin/python3
"""Docket swarm lab: N hosts + 1 registry host as network namespaces on one bridge, every link
capped at R with tc tbf (upload on the host's eth0, download on the bridge-side veth), the same
image deployed to all N hosts at once by several systems, each timed against the physical bound
T_min = max(S/R, N*S/((N+1)*R)).

Scenarios (SWARM_SCENARIOS, comma separated):
  docket       docket-cli pull on every host at once (registry seeds, pullers trade pieces)
  docket-http  the same with --no-p2p (every blob over HTTP from the Docket registry)
  registry     /usr/bin/docker-registry (Distribution) serving the same image over HTTP (curl)
  aria2c       the same layer torrents through aria2c, registry host seeding, opentracker
  libtorrent   the same through python3-libtorrent peers (lt_peer.py), registry host seeding

Everything it creates is named with SWARM_PREFIX (default dkt) and removed on exit, even on failure.
Run as root. Writes results.csv, results.txt and deploy-time.png into SWARM_OUT.
"""
import atexit
import hashlib
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

ENV = os.environ
ALL_SCENARIOS = ["docket", "docket-http", "registry", "aria2c", "libtorrent"]
MAX_HOSTS = 64


def setting(name, default, parse, rule):
    """The environment variable `name` (or `default`) through `parse`; exits naming it and `rule` when it does not fit."""
    text = ENV.get(name, default)
    try:
        value = parse(text)
    except ValueError:
        value = None
    if value is None:
        sys.exit(f"lab.py: {name} must be {rule}, not '{text}'")
    return value


def positive(kind, limit):
    return lambda text: (lambda v: v if 0 < v <= limit else None)(kind(text))


def host_counts(text):
    counts = [int(n) for n in text.replace(",", " ").split()]
    return counts if counts and all(1 <= n <= MAX_HOSTS for n in counts) else None


def scenario_list(text):
    names = [s.strip() for s in text.split(",") if s.strip()]
    return names if names and all(s in ALL_SCENARIOS for s in names) else None


PREFIX = setting("SWARM_PREFIX", "dkt", lambda t: t if re.fullmatch(r"[a-z][a-z0-9]{0,5}", t) else None,
                 "1-6 lower-case letters or digits, starting with a letter (it prefixes interface names)")
SUBNET = setting("SWARM_SUBNET", "10.77.0", lambda t: t if re.fullmatch(r"(\d{1,3})\.(\d{1,3})\.(\d{1,3})", t)
                 and all(int(p) < 256 for p in t.split(".")) else None,
                 "the first three parts of an IPv4 /24 such as 10.77.0")  # only on links this script makes
NS_LIST = setting("SWARM_N", "2 4 8", host_counts, f"host counts from 1 to {MAX_HOSTS}, space or comma separated, such as \"2 4 8\"")
SIZE_MB = setting("SWARM_SIZE_MB", "100", positive(int, 100_000), "a payload size in whole MB from 1 to 100000")
RATE_MBIT = setting("SWARM_RATE_MBIT", "100", positive(float, 100_000), "a link rate in Mbit/s above 0, such as 100 or 2.5")
SCENARIOS = setting("SWARM_SCENARIOS", ",".join(ALL_SCENARIOS), scenario_list,
                    "a comma-separated list of " + ", ".join(ALL_SCENARIOS))
def output_directory(text):
    """The results directory, made now (so a bad one fails before the build), if it can be."""
    path = os.path.abspath(text)
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as error:
        raise ValueError(error.strerror)
    return path if os.access(path, os.W_OK) else None


OUT = setting("SWARM_OUT", os.path.join(REPO, ".build/swarm"), output_directory, "a directory it can write results into")
CLI = ENV.get("DOCKET_CLI", "")
IMAGE = ENV.get("SWARM_IMAGE", "")  # reuse an archive from scripts/make-image.sh
KEEP = ENV.get("SWARM_KEEP", "") == "1"  # keep the work directory (logs) after the run
TIMELINE = ENV.get("SWARM_TIMELINE", "") == "1"  # docket hosts report JSON progress; timelines go to SWARM_OUT
# seconds per scenario run (default max(60, 25 x T_min))
TIMEOUT = setting("SWARM_TIMEOUT", "", lambda t: positive(float, 86_400)(t) if t else 0, "seconds above 0, or empty")

REG_IP = f"{SUBNET}.1"
IMAGE_REF = "lab/app:1.0"
DOCKET_PORT, DISTRIBUTION_PORT, TRACKER_PORT = 5000, 5001, 6969

started = []  # Popen objects, killed by process group id on exit
work = None
gate = None  # a FIFO the hosts' clients wait on, so that all start at the same moment


def log(text):
    print(f"[lab {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def run(args, check=True, capture=False, ns=None, timeout=600):
    if ns:
        args = ["ip", "netns", "exec", ns] + args
    result = subprocess.run(args, stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise RuntimeError(f"`{' '.join(args)}` exited {result.returncode}: {result.stderr.strip()}")
    return result.stdout if capture else result


def spawn(args, ns, logfile, stdout_pipe=False):
    """Starts args inside namespace ns in its own process group; stderr (and stdout unless piped) to logfile.
    While a start gate is open (run_hosts), the process waits at the gate before it runs args."""
    out = open(logfile, "ab")
    if gate:
        args = ["sh", "-c", 'cat "$0" > /dev/null; exec "$@"', gate] + args
    process = subprocess.Popen(["ip", "netns", "exec", ns] + args, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE if stdout_pipe else out, stderr=out, start_new_session=True)
    started.append(process)
    return process


def stop(process, grace=5.0):
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait()
    if process in started:
        started.remove(process)


# ---------------------------------------------------------------- network

def ns_name(host):
    return f"{PREFIX}-{host}"


def host_ip(i):
    return f"{SUBNET}.{10 + i}"


def own_namespaces():
    names = run(["ip", "netns", "list"], capture=True).split("\n")
    return [line.split()[0] for line in names if line.split() and line.split()[0].startswith(PREFIX + "-")]


def teardown_network():
    for name in own_namespaces():
        run(["ip", "netns", "del", name], check=False)


def cleanup():
    for process in list(started):
        stop(process, grace=2.0)
    teardown_network()
    if work and not KEEP:
        shutil.rmtree(work, ignore_errors=True)


def tbf(ns, dev):
    burst = max(32 * 1024, int(RATE_MBIT * 1e6 / 8 * 0.002))
    run(["tc", "qdisc", "replace", "dev", dev, "root", "tbf", "rate", f"{RATE_MBIT}mbit",
         "burst", str(burst), "latency", "50ms"], ns=ns)


def build_network(hosts):
    """Switch namespace with a bridge; one namespace per host (reg, h1..hN) linked to it by a veth pair."""
    teardown_network()
    switch = ns_name("sw")
    run(["ip", "netns", "add", switch])
    run(["ip", "-n", switch, "link", "add", "br0", "type", "bridge"])
    run(["ip", "-n", switch, "link", "set", "br0", "up"])
    # Bridged frames skip iptables in the switch (br_netfilter, loaded by Docker, would otherwise
    # run every frame through the firewall: CPU every system pays, nothing the lab needs).
    for table in ("iptables", "ip6tables", "arptables"):
        run(["sysctl", "-q", "-w", f"net.bridge.bridge-nf-call-{table}=0"], ns=switch, check=False)
    for host, ip in [("reg", REG_IP)] + [(f"h{i}", host_ip(i)) for i in range(1, hosts + 1)]:
        ns = ns_name(host)
        port = f"{PREFIX}-{host}"
        run(["ip", "netns", "add", ns])
        run(["ip", "-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", port, "netns", switch])
        run(["ip", "-n", ns, "addr", "add", f"{ip}/24", "dev", "eth0"])
        run(["ip", "-n", ns, "link", "set", "lo", "up"])
        run(["ip", "-n", ns, "link", "set", "eth0", "up"])
        run(["ip", "-n", switch, "link", "set", port, "master", "br0"])
        run(["ip", "-n", switch, "link", "set", port, "up"])
        tbf(ns, "eth0")      # what the host uploads
        tbf(switch, port)    # what the host downloads


LINK_SAMPLER = r"""
import glob, sys, time
ports = sorted(glob.glob("/sys/class/net/%s-*" % sys.argv[1]))
while True:
    now = time.time()
    for port in ports:
        stats = [open(port + "/statistics/" + name).read().strip() for name in ("tx_bytes", "rx_bytes")]
        print(now, port.rsplit("-", 1)[1], *stats)
    sys.stdout.flush()
    time.sleep(0.05)
"""


def start_link_sampler():
    """Every 50 ms, each host's switch port counters: tx is what the host downloaded, rx what it uploaded."""
    return spawn(["python3", "-c", LINK_SAMPLER, PREFIX], ns_name("sw"), os.path.join(work, "links.raw"))


def write_link_timeline(system, n, t0):
    """links-SYSTEM-nN.txt: seconds since the start, host, MB downloaded and uploaded since the start."""
    raw = os.path.join(work, "links.raw")
    first, rows = {}, []
    with open(raw) as f:
        for line in f:
            parts = line.split()
            if len(parts) != 4:
                continue
            t, host, down, up = float(parts[0]), parts[1], int(parts[2]), int(parts[3])
            first.setdefault(host, (down, up))
            rows.append(f"{t - t0:8.3f} {host:>4} {(down - first[host][0]) / 1e6:9.3f} {(up - first[host][1]) / 1e6:9.3f}")
    os.unlink(raw)
    with open(os.path.join(OUT, f"links-{system}-n{n}.txt"), "w") as f:
        f.write("\n".join(rows) + "\n")


def count_registry_http():
    """An nftables counter in the registry namespace: bytes it sends from the Docket HTTP port
    (blobs over HTTP and the web seed), so BitTorrent and HTTP uploads can be told apart."""
    ns = ns_name("reg")
    run(["nft", "add", "table", "inet", "lab"], ns=ns)
    run(["nft", "add", "chain", "inet", "lab", "out", "{ type filter hook output priority 0; }"], ns=ns)
    run(["nft", "add", "rule", "inet", "lab", "out", "oifname", "eth0", "tcp", "sport", str(DOCKET_PORT), "counter"], ns=ns)


def registry_http_bytes():
    try:
        rules = json.loads(run(["nft", "-j", "list", "chain", "inet", "lab", "out"], capture=True, ns=ns_name("reg")))
        for item in rules["nftables"]:
            for expr in item.get("rule", {}).get("expr", []):
                if "counter" in expr:
                    return expr["counter"]["bytes"]
    except (RuntimeError, ValueError, KeyError):
        pass
    return 0


def tx_bytes(host):
    return int(run(["cat", "/sys/class/net/eth0/statistics/tx_bytes"], capture=True, ns=ns_name(host)))


def cpu_times():
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    return sum(fields), fields[3] + fields[4]


def own_cpu_seconds(servers):
    """CPU seconds used by reaped children (the hosts' clients) plus the running registry-side processes."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = usage.ru_utime + usage.ru_stime
    tick = os.sysconf("SC_CLK_TCK")
    for process in servers:
        try:
            with open(f"/proc/{process.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
        except OSError:
            pass
    return total


def wait_http(url, ns, seconds=20):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if run(["curl", "-fsS", "-o", "/dev/null", url], check=False, ns=ns).returncode == 0:
            return
        time.sleep(0.1)
    raise RuntimeError(f"nothing answered {url} within {seconds} s")


# ---------------------------------------------------------------- scenarios

class Blob:
    def __init__(self, digest, size):
        self.digest, self.size = digest, size
        self.hex = digest.split(":", 1)[1]


def manifest_blobs(url, repo, ns):
    accept = "application/vnd.oci.image.manifest.v1+json,application/vnd.docker.distribution.manifest.v2+json"
    text = run(["curl", "-fsS", "-H", f"Accept: {accept}", f"{url}/v2/{repo}/manifests/1.0"], capture=True, ns=ns)
    manifest = json.loads(text)
    return [Blob(d["digest"], d["size"]) for d in [manifest["config"]] + manifest["layers"]]


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def verified(directory, blobs, name=lambda b: b.hex):
    try:
        return all(sha256_file(os.path.join(directory, name(b))) == b.hex for b in blobs)
    except OSError:
        return False


class Host:
    """One host's client process and the moment it reported a complete image."""

    def __init__(self, index, process, t0, marker=None, done_file=None, done_count=0):
        self.index, self.process, self.t0 = index, process, t0
        self.done_at = None
        self.lines = []
        self.timeline = []  # (seconds since start, stdout line), written to the host's directory
        if marker:
            threading.Thread(target=self._read, args=(marker,), daemon=True).start()
        else:
            threading.Thread(target=self._poll, args=(done_file, done_count), daemon=True).start()

    def _read(self, marker):
        for raw in self.process.stdout:
            line = raw.decode(errors="replace").rstrip()
            self.lines.append(line)
            self.timeline.append((time.time() - self.t0, line))
            if self.done_at is None and re.search(marker, line):
                self.done_at = time.time()

    def _poll(self, path, count):
        while self.done_at is None:
            try:
                with open(path) as f:
                    if len(f.read().split()) >= count:
                        self.done_at = time.time()
            except OSError:
                pass
            time.sleep(0.02)

    @property
    def seconds(self):
        return None if self.done_at is None else self.done_at - self.t0


def run_hosts(system, n, start_host, bound, check, servers):
    """Starts one client per host at once, waits until all report done (or the timeout), stops them."""
    global gate
    timeout = TIMEOUT or max(60.0, 25 * bound)
    # Every client is spawned first and waits at a FIFO; closing it releases all at once, so the
    # hosts start together (as an orchestrator's parallel deploy would) instead of one spawn apart.
    gate = os.path.join(work, "start-gate")
    os.mkfifo(gate)
    try:
        hosts = [start_host(i, 0.0) for i in range(1, n + 1)]
    finally:
        path, gate = gate, None
    sampler = start_link_sampler() if TIMELINE else None
    time.sleep(0.5)  # every waiting `cat` has opened the FIFO
    tx0 = tx_bytes("reg")
    http0 = registry_http_bytes()
    cpu0 = cpu_times()
    own0 = own_cpu_seconds(servers)
    t0 = time.time()
    for h in hosts:
        h.t0 = t0
    os.close(os.open(path, os.O_WRONLY))
    os.unlink(path)
    # A virtual machine can be paused by its host (seen here: 0.5 s and 10 s, every process and
    # link still): a 50 ms sleep that takes far longer says so, and the result is flagged.
    paused, last = 0.0, time.monotonic()
    while time.time() - t0 < timeout:
        if all(h.done_at for h in hosts):
            break
        if any(h.done_at is None and h.process.poll() not in (None, 0) for h in hosts):
            time.sleep(0.5)  # let the reader catch the last lines
            break
        time.sleep(0.05)
        now = time.monotonic()
        paused = max(paused, now - last - 0.05)
        last = now
    t_end = time.time()
    if paused > 0.25:
        log(f"{system} N={n}: the machine stalled for {paused:.1f} s during this run (every process waited); "
            "its time does not measure the systems, run it again")
    cpu1 = cpu_times()
    tx = tx_bytes("reg") - tx0
    http = registry_http_bytes() - http0
    for h in hosts:
        stop(h.process)
    if sampler:
        stop(sampler)
        write_link_timeline(system, n, t0)
    own = 100.0 * (own_cpu_seconds(servers) - own0) / ((t_end - t0) * os.cpu_count())
    busy = 100.0 * (1 - (cpu1[1] - cpu0[1]) / max(1, cpu1[0] - cpu0[0]))
    oks = [h.done_at is not None and check(h.index) for h in hosts]
    for h, ok in zip(hosts, oks):
        if not ok:
            log(f"{system} N={n}: host h{h.index} did not finish with a verified image "
                f"(exit {h.process.poll()}): {' | '.join(h.lines[-3:])}")
    if TIMELINE:
        with open(os.path.join(OUT, f"timeline-{system}-n{n}.txt"), "w") as f:
            for h in hosts:
                for t, line in h.timeline:
                    f.write(f"h{h.index} {t:8.3f} {line}\n")
    times = [h.seconds for h in hosts]
    last = max(times) if all(t is not None for t in times) else None
    return {"system": system, "n": n, "verified": int(all(oks)), "t_last": last,
            "t_hosts": times, "registry_tx": tx, "registry_http": http, "cpu_busy": busy, "cpu_lab": own, "t_wall": t_end - t0,
            "paused": paused, "notes": [line for h in hosts for line in h.lines if re.match(r"^pulled ", line)]}


def host_dir(system, n, i):
    path = os.path.join(work, "hosts", system, f"n{n}", f"h{i}")
    os.makedirs(path, exist_ok=True)
    return path


def docket_scenario(system, n, bound, blobs, p2p, server):
    url = f"http://{REG_IP}:{DOCKET_PORT}"

    def start(i, t0):
        d = host_dir(system, n, i)
        args = [CLI, "pull", IMAGE_REF, "--registry", url, "--store", f"{d}/store", "--output", f"{d}/image.tar"]
        args += ["--seed-time", "600"] if p2p else ["--no-p2p", "--seed-time", "0"]
        if TIMELINE:
            args += ["--json"]
        marker = r'"event" ?: ?"pulled"' if TIMELINE else r"^pulled "
        return Host(i, spawn(args, ns_name(f"h{i}"), f"{d}/log", stdout_pipe=True), t0, marker=marker)

    def check(i):
        return verified(f"{host_dir(system, n, i)}/store/blobs/sha256", blobs)

    result = run_hosts(system, n, start, bound, check, [server])
    tidy(system, n)
    return result


def tidy(system, n):
    if not KEEP:
        shutil.rmtree(os.path.join(work, "hosts", system, f"n{n}"), ignore_errors=True)


def http_scenario(n, bound, blobs, server):
    url = f"http://{REG_IP}:{DISTRIBUTION_PORT}/v2/lab/app/blobs"
    fetch = os.path.join(HERE, "http_fetch.sh")

    def start(i, t0):
        d = host_dir("registry", n, i)
        args = ["bash", fetch, url, d] + [b.digest for b in blobs]
        return Host(i, spawn(args, ns_name(f"h{i}"), f"{d}/log", stdout_pipe=True), t0, marker=r"^verified")

    def check(i):
        return verified(host_dir("registry", n, i), blobs)

    result = run_hosts("registry", n, start, bound, check, [server])
    tidy("registry", n)
    return result


def torrent_scenario(system, n, bound, layers, torrents, seed_dir):
    tracker_dir = os.path.join(work, "opentracker")
    tracker = spawn(["opentracker", "-f", os.path.join(tracker_dir, "opentracker.conf")], ns_name("reg"),
                    os.path.join(work, "opentracker.log"))
    time.sleep(0.3)
    aria_common = ["aria2c", "--enable-dht=false", "--enable-dht6=false", "--bt-enable-lpd=false",
                   "--enable-peer-exchange=false", "--summary-interval=0", "--console-log-level=warn",
                   "--file-allocation=none", "--bt-max-peers=0", "--seed-ratio=0.0", "--listen-port=6881",
                   "-j", "16"]
    if system == "aria2c":
        seeder = spawn(aria_common + [f"--dir={seed_dir}", "--bt-seed-unverified=true", "--seed-time=600",
                                      f"--bt-external-ip={REG_IP}"] + torrents, ns_name("reg"),
                       os.path.join(work, "aria-seed.log"))
    else:
        seeder = spawn(["/usr/bin/python3", os.path.join(HERE, "lt_peer.py"), "--listen", REG_IP, "--save", seed_dir,
                        "--seed"] + torrents, ns_name("reg"), os.path.join(work, "lt-seed.log"))
    time.sleep(1.5)  # the seeder announces before the hosts start
    hook = os.path.join(work, "aria-done.sh")

    def start(i, t0):
        d = host_dir(system, n, i)
        if system == "aria2c":
            args = aria_common + [f"--dir={d}", "--seed-time=600", f"--bt-external-ip={host_ip(i)}",
                                  f"--on-bt-download-complete={hook}"] + torrents
            env_args = ["env", f"LAB_DONE={d}/done"] + args
            return Host(i, spawn(env_args, ns_name(f"h{i}"), f"{d}/log"), t0,
                        done_file=f"{d}/done", done_count=len(torrents))
        args = ["/usr/bin/python3", os.path.join(HERE, "lt_peer.py"), "--listen", host_ip(i), "--save", d] + torrents
        return Host(i, spawn(args, ns_name(f"h{i}"), f"{d}/log", stdout_pipe=True), t0, marker=r"^complete")

    def check(i):
        return verified(host_dir(system, n, i), layers)

    try:
        result = run_hosts(system, n, start, bound, check, [seeder, tracker])
    finally:
        stop(seeder)
        stop(tracker)
    tidy(system, n)
    return result


# ---------------------------------------------------------------- setup of the registries

def prepare_torrents(layers, blob_paths):
    """Docket's own per-layer torrents (same info dict, same piece length), re-pointed at opentracker."""
    import libtorrent as lt
    tdir = os.path.join(work, "torrents")
    seed_dir = os.path.join(work, "seed")
    tracker_dir = os.path.join(work, "opentracker")
    for d in (tdir, seed_dir, tracker_dir):
        os.makedirs(d, exist_ok=True)
    torrents, hashes, piece_lengths = [], [], []
    for blob in layers:
        path = os.path.join(tdir, blob.hex + ".torrent")
        r = subprocess.run(["ip", "netns", "exec", ns_name("reg"), "curl", "-fsS", "-o", path,
                            f"http://{REG_IP}:{DOCKET_PORT}/docket/v1/blobs/{blob.digest}/torrent"],
                           stderr=subprocess.DEVNULL)
        if r.returncode != 0:
            continue  # under the small-blob threshold: Docket fetches it over HTTP, not a torrent
        with open(path, "rb") as f:
            meta = lt.bdecode(f.read())
        meta[b"announce"] = f"http://{REG_IP}:{TRACKER_PORT}/announce".encode()
        meta.pop(b"announce-list", None)
        meta.pop(b"url-list", None)
        with open(path, "wb") as f:
            f.write(lt.bencode(meta))
        info = lt.torrent_info(path)
        hashes.append(str(info.info_hash()))
        piece_lengths.append(info.piece_length())
        os.link(blob_paths[blob.hex], os.path.join(seed_dir, blob.hex))
        torrents.append(path)
    with open(os.path.join(tracker_dir, "whitelist"), "w") as f:
        f.write("\n".join(hashes) + "\n")
    with open(os.path.join(tracker_dir, "opentracker.conf"), "w") as f:
        f.write(f"listen.tcp_udp {REG_IP}:{TRACKER_PORT}\ntracker.rootdir {tracker_dir}\naccess.whitelist /whitelist\n")
    with open(os.path.join(work, "aria-done.sh"), "w") as f:
        f.write("#!/bin/sh\necho \"$1\" >> \"$LAB_DONE\"\n")
    os.chmod(os.path.join(work, "aria-done.sh"), 0o755)
    log(f"torrents: {len(torrents)} layers, piece lengths {sorted(set(piece_lengths))}")
    return torrents, seed_dir


def start_distribution(image):
    root = os.path.join(work, "distribution")
    os.makedirs(root, exist_ok=True)
    config = os.path.join(work, "distribution.yml")
    with open(config, "w") as f:
        f.write(f"version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {root}\n"
                f"http:\n  addr: {REG_IP}:{DISTRIBUTION_PORT}\n")
    process = spawn(["/usr/bin/docker-registry", "serve", config], ns_name("reg"), os.path.join(work, "distribution.log"))
    wait_http(f"http://{REG_IP}:{DISTRIBUTION_PORT}/v2/", ns_name("reg"))
    # --preserve-digests: keep the archive's uncompressed layers, so both registries serve the same blobs
    run(["skopeo", "copy", "--quiet", "--dest-tls-verify=false", "--preserve-digests", f"docker-archive:{image}",
         f"docker://{REG_IP}:{DISTRIBUTION_PORT}/lab/app:1.0"], ns=ns_name("reg"))
    blobs = manifest_blobs(f"http://{REG_IP}:{DISTRIBUTION_PORT}", "lab/app", ns_name("reg"))
    return process, blobs


def start_docket(image):
    data = os.path.join(work, "docket-registry")
    url = f"http://{REG_IP}:{DOCKET_PORT}"
    process = spawn([CLI, "serve", "--data", data, "--bind", REG_IP, "--port", str(DOCKET_PORT)], ns_name("reg"),
                    os.path.join(work, "docket-serve.log"))
    wait_http(f"{url}/v2/", ns_name("reg"))
    wait_http(f"{url}/v2/", ns_name("h1"))  # the bridge carries traffic
    run([CLI, "push", "--registry", url, image, IMAGE_REF], ns=ns_name("reg"))
    blobs = manifest_blobs(url, "lab/app", ns_name("reg"))
    paths = {}  # hex digest -> the file in the registry's blob store
    for root, _, files in os.walk(data):
        for name in files:
            paths[name] = os.path.join(root, name)
    return process, blobs, paths


# ---------------------------------------------------------------- output

def fmt(x, spec="{:.1f}"):
    return "-" if x is None else spec.format(x)


def report(results, size_bytes):
    rate = RATE_MBIT * 1e6 / 8
    header = (f"{'system':<12} {'N':>3} {'T_last s':>9} {'T_min s':>8} {'ratio':>6} {'reg sent MB':>12} "
              f"{'reg/S':>6} {'CPU %':>6} {'lab %':>6}  per-host s")
    lines = [f"payload S = {size_bytes / 1e6:.1f} MB (image blobs), R = {RATE_MBIT:g} Mbit/s per link "
             f"up and down, {os.cpu_count()} cores", header, "-" * len(header)]
    csv = ["system,n,size_bytes,rate_mbit,verified,t_last_s,t_min_s,ratio,registry_tx_bytes,cpu_busy_pct,"
           "cpu_lab_pct,cpu_limited,t_hosts_s,registry_docket_http_bytes"]
    for r in results:
        n = r["n"]
        tmin = max(size_bytes / rate, n * size_bytes / ((n + 1) * rate))
        r["t_min"] = tmin
        ratio = r["t_last"] / tmin if r["t_last"] and r["verified"] else None
        cpu_limited = r["cpu_busy"] > 90
        hosts = " ".join(fmt(t) for t in r["t_hosts"])
        note = "" if r["verified"] else "  NOT VERIFIED"
        note += "  CPU-bound (machine >90% busy)" if cpu_limited else ""
        note += f"  machine stalled {r['paused']:.1f} s" if r.get("paused", 0) > 0.25 else ""
        lines.append(f"{r['system']:<12} {n:>3} {fmt(r['t_last'] if r['verified'] else None, '{:.2f}'):>9} "
                     f"{tmin:>8.2f} {fmt(ratio, '{:.2f}'):>6} {r['registry_tx'] / 1e6:>12.1f} "
                     f"{r['registry_tx'] / size_bytes:>6.2f} {r['cpu_busy']:>6.0f} {r['cpu_lab']:>6.0f}  {hosts}{note}")
        csv.append(",".join(str(v) for v in [
            r["system"], n, size_bytes, RATE_MBIT, r["verified"], fmt(r["t_last"], "{:.3f}"), f"{tmin:.3f}",
            fmt(ratio, "{:.3f}"), r["registry_tx"], f"{r['cpu_busy']:.1f}", f"{r['cpu_lab']:.1f}", int(cpu_limited),
            " ".join(fmt(t, "{:.3f}") for t in r["t_hosts"]), r["registry_http"]]))
    return "\n".join(lines), "\n".join(csv) + "\n"


def plot(results, size_bytes):
    if not shutil.which("gnuplot"):
        log("gnuplot not found: no plot (apt-get install gnuplot-nox)")
        return
    systems = []
    for r in results:
        if r["system"] not in systems:
            systems.append(r["system"])
    data = os.path.join(OUT, "plot.dat")
    with open(data, "w") as f:
        for s in systems:
            f.write(f"# {s}\n")
            for r in results:
                if r["system"] == s and r["verified"] and r["t_last"]:
                    f.write(f"{r['n']} {r['t_last']:.3f}\n")
            f.write("\n\n")
        f.write("# bound\n")
        for n in sorted(set(r["n"] for r in results)):
            f.write(f"{n} {max(r['t_min'] for r in results if r['n'] == n):.3f}\n")
    png = os.path.join(OUT, "deploy-time.png")
    cmds = [
        "set terminal pngcairo size 900,600 font ',11'", f"set output '{png}'",
        f"set title 'Deploy of {size_bytes / 1e6:.0f} MB to N hosts, {RATE_MBIT:g} Mbit/s per link'",
        "set xlabel 'hosts N'", "set ylabel 'time until the last host has a verified image (s)'",
        "set key top left", "set grid", "set yrange [0:*]", "set offsets 0.3, 0.3, 0, 0",
        f"set xtics ({', '.join(str(n) for n in sorted(set(r['n'] for r in results)))})",
    ]
    plots = [f"'{data}' index {i} with linespoints lw 2 pt 7 title '{s}'" for i, s in enumerate(systems)]
    plots.append(f"'{data}' index {len(systems)} with lines lw 2 dt 2 lc rgb 'black' "
                 "title 'T_{min} = max(S/R, NS/((N+1)R))'")
    cmds.append("plot " + ", ".join(plots))
    subprocess.run(["gnuplot", "-e", "; ".join(cmds)], check=False)
    log(f"plot: {png}")


# ---------------------------------------------------------------- main

def main():
    global work, CLI
    if sys.argv[1:] == ["--check"]:
        return  # the settings were read (and checked) on import
    if os.geteuid() != 0:
        sys.exit("lab.py: needs root (network namespaces and tc); run it as root")
    if not CLI:
        CLI = os.path.join(REPO, ".build/release/docket-cli")
    if not os.access(CLI, os.X_OK):
        sys.exit(f"lab.py: docket-cli not found at {CLI}; build it or set DOCKET_CLI")
    os.makedirs(OUT, exist_ok=True)
    # Not /tmp: other jobs on a shared machine sweep it; SWARM_WORK moves it.
    base = ENV.get("SWARM_WORK", "/var/tmp")
    os.makedirs(base, exist_ok=True)
    work = tempfile.mkdtemp(prefix=f"{PREFIX}-lab-", dir=base)
    os.chmod(work, 0o755)
    atexit.register(cleanup)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(130))

    max_n = max(NS_LIST)
    log(f"network: {max_n} hosts + registry on {SUBNET}.0/24, {RATE_MBIT:g} Mbit/s per direction, prefix {PREFIX}-")
    build_network(max_n)
    count_registry_http()
    image = IMAGE
    if not image:
        image = os.path.join(work, "image.tar")
        log(f"building an image with a {SIZE_MB} MB payload (scripts/make-image.sh)")
        run(["bash", os.path.join(REPO, "scripts/make-image.sh"), image, IMAGE_REF, str(SIZE_MB)])

    docket, blobs, blob_paths = start_docket(image)
    size = sum(b.size for b in blobs)
    log(f"image: {len(blobs)} blobs, {size / 1e6:.1f} MB: " + ", ".join(f"{b.size / 1e6:.2f}" for b in blobs))
    rate = RATE_MBIT * 1e6 / 8
    results = []

    def record(result):
        results.append(result)
        log(f"{result['system']} N={result['n']}: last host {fmt(result['t_last'], '{:.2f}')} s, "
            f"verified={result['verified']}, registry sent {result['registry_tx'] / 1e6:.1f} MB, "
            f"of which {result['registry_http'] / 1e6:.1f} MB from the Docket HTTP port, "
            f"CPU {result['cpu_busy']:.0f}% (lab {result['cpu_lab']:.0f}%)")
        for line in result["notes"]:
            log(f"  {line}")

    def bound(n):
        return max(size / rate, n * size / ((n + 1) * rate))

    torrents = None
    for n in NS_LIST:
        if "docket" in SCENARIOS:
            record(docket_scenario("docket", n, bound(n), blobs, p2p=True, server=docket))
        if "docket-http" in SCENARIOS:
            record(docket_scenario("docket-http", n, bound(n), blobs, p2p=False, server=docket))
        if ("aria2c" in SCENARIOS or "libtorrent" in SCENARIOS) and torrents is None:
            torrents, seed_dir = prepare_torrents(blobs[1:], blob_paths)
        layers = [b for b in blobs[1:] if os.path.exists(os.path.join(work, "torrents", b.hex + ".torrent"))]
        for system in ("aria2c", "libtorrent"):
            if system in SCENARIOS:
                record(torrent_scenario(system, n, bound(n), layers, torrents, seed_dir))
    stop(docket)
    if "registry" in SCENARIOS:
        distribution, http_blobs = start_distribution(image)
        if [b.digest for b in http_blobs] != [b.digest for b in blobs]:
            log("note: docker-registry holds different digests (skopeo recompressed): "
                + ", ".join(f"{b.size / 1e6:.2f}" for b in http_blobs))
        for n in NS_LIST:
            record(http_scenario(n, bound(n), http_blobs, distribution))
        stop(distribution)

    order = {s: i for i, s in enumerate(ALL_SCENARIOS)}
    results.sort(key=lambda r: (order.get(r["system"], 9), r["n"]))
    table, csv = report(results, size)
    print(table, flush=True)
    with open(os.path.join(OUT, "results.csv"), "w") as f:
        f.write(csv)
    with open(os.path.join(OUT, "results.txt"), "w") as f:
        f.write(table + "\n")
    plot(results, size)
    log(f"results: {OUT}/results.csv")
    if not all(r["verified"] for r in results):
        sys.exit(1)


if __name__ == "__main__":
    main()
