#!/usr/bin/python3
"""A python3-libtorrent peer for the swarm lab: downloads (or seeds) the given torrents into one
directory, prints `complete` once every torrent is finished, then keeps seeding until SIGTERM.

usage: lt_peer.py --listen IP --save DIR [--seed] TORRENT...
"""
import argparse
import signal
import sys
import time

import libtorrent as lt


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--listen", required=True)
    parser.add_argument("--save", required=True)
    parser.add_argument("--seed", action="store_true")
    parser.add_argument("torrents", nargs="+")
    args = parser.parse_args()

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))

    session = lt.session({
        "listen_interfaces": f"{args.listen}:6881",
        "outgoing_interfaces": args.listen,
        "enable_dht": False, "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
        "allow_multiple_connections_per_ip": True,
        "announce_to_all_trackers": True, "announce_to_all_tiers": True,
        "alert_mask": lt.alert.category_t.error_notification,
    })
    handles = []
    for path in args.torrents:
        params = lt.add_torrent_params()
        params.ti = lt.torrent_info(path)
        params.save_path = args.save
        if args.seed:
            params.flags |= lt.torrent_flags.seed_mode
        handles.append(session.add_torrent(params))

    reported = False
    while not stop:
        if not reported and all(h.status().is_seeding for h in handles):
            print("complete", flush=True)
            reported = True
        for alert in session.pop_alerts():
            print(f"alert: {alert.message()}", file=sys.stderr, flush=True)
        time.sleep(0.05)
    for handle in handles:
        handle.pause()
    time.sleep(0.2)


if __name__ == "__main__":
    main()
