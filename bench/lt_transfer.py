#!/usr/bin/python3
"""One python3-libtorrent peer for `make bench`: seeds FILE, or downloads into DIR, through the
torrent's tracker. Loopback settings: no DHT, LSD, UPnP or NAT-PMP, TCP only (as Docket and aria2c),
several connections per IP allowed, no rate limits.

usage: lt_transfer.py seed TORRENT FILE      seeds until SIGTERM
       lt_transfer.py leech TORRENT DIR      prints `complete` once every piece is verified, then exits
"""
import os
import signal
import sys
import time

import libtorrent as lt


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("seed", "leech"):
        sys.exit(__doc__)
    mode, torrent, path = sys.argv[1:]
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    # libtorrent's own preset for fast seeding (bigger send buffers, more disk threads), then loopback.
    settings = lt.high_performance_seed()
    settings.update({
        "listen_interfaces": "127.0.0.1:0",
        "enable_dht": False, "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
        "enable_outgoing_utp": False, "enable_incoming_utp": False,
        "allow_multiple_connections_per_ip": True,
        "upload_rate_limit": 0, "download_rate_limit": 0,
        "alert_mask": lt.alert.category_t.error_notification,
    })
    session = lt.session(settings)
    params = lt.add_torrent_params()
    params.ti = lt.torrent_info(torrent)
    if mode == "seed":
        params.save_path = os.path.dirname(os.path.abspath(path))
        params.flags |= lt.torrent_flags.seed_mode
    else:
        params.save_path = path
    handle = session.add_torrent(params)
    reported = False
    while not stop:
        if mode == "leech" and handle.status().is_seeding:
            print("complete", flush=True)
            return
        if mode == "seed" and not reported:
            print("seeding", flush=True)
            reported = True
        for alert in session.pop_alerts():
            print(f"alert: {alert.message()}", file=sys.stderr, flush=True)
        time.sleep(0.01)


if __name__ == "__main__":
    main()
