"""Print join-QR posters (one A4 PDF per community), and sheets of volunteer invite QR codes.

Run it against the stage's AWS account (credentials and BAOGONG_* from the environment, as in
.chalice/config.json; BAOGONG_PUBLIC_URL or --public-url is the address residents open), or
against a running `make dev` with --local. Which communities: --community-id (repeatable), or
every community of --sub-district; with --local and neither, the demo community.

    python -m scripts.posters --local .local/dev.json --out posters/
    python -m scripts.posters --local .local/dev.json --volunteer-invites 6
    python -m scripts.posters --sub-district 01HX… --public-url https://baogong.example.cn --out posters/
    python -m scripts.posters --community-id 01HX… --community-id 01HY… --out posters/

Each poster is written as <out>/poster-<community>-<id>.pdf. --volunteer-invites N also creates
N one-time volunteer invites per community (valid 3 days, through api/invites as the community's
sub-district admin) and writes them as <out>/volunteer-invites-<community>-<id>.pdf: hand those
out in person, never post them.
"""
import argparse
import json
import os
import re
import sys
from pathlib import Path


def _safe(name: str) -> str:
    """A community name as part of a file name: no path separators or control characters."""
    return re.sub(r'[\\/:*?"<>|\s\x00-\x1f]+', "_", name).strip("_") or "community"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--community-id", action="append", default=[], metavar="ID",
                       help="a community to print (repeat for more)")
    which.add_argument("--sub-district", metavar="ID", help="print every community of this sub-district")
    parser.add_argument("--local", metavar="DEV_JSON", help="use the moto of a running `make dev`")
    parser.add_argument("--public-url", help="the address residents open (default: BAOGONG_PUBLIC_URL)")
    parser.add_argument("--out", default="posters", type=Path, help="directory for the PDFs (default: posters)")
    parser.add_argument("--volunteer-invites", type=int, default=0, metavar="N",
                        help="also make N volunteer invites per community, as a sheet of QR codes (default: none)")
    args = parser.parse_args(argv)

    community_ids = list(args.community_id)
    if args.local:
        dev = json.load(open(args.local))
        os.environ.update({"BAOGONG_AWS_ENDPOINT": dev["moto_url"], "BAOGONG_STAGE": "local",
                           "BAOGONG_PUBLIC_URL": dev["base_url"], "AWS_ACCESS_KEY_ID": "local",
                           "AWS_SECRET_ACCESS_KEY": "local"})
        if not community_ids and not args.sub_district:
            community_ids = [dev["community_id"]]
    if not community_ids and not args.sub_district:
        parser.error("name the communities: --community-id ID (repeatable) or --sub-district ID")
    from api import communities, config, posters
    from api.auth import Principal
    from api.errors import DomainError

    if args.public_url:
        config.PUBLIC_URL = args.public_url.rstrip("/")
    if not config.PUBLIC_URL.startswith(("https://", "http://")):
        parser.error("the join QR needs the public address: set BAOGONG_PUBLIC_URL or pass --public-url")
    if not 0 <= args.volunteer_invites <= posters.MAX_INVITES:
        parser.error(f"--volunteer-invites must be 0..{posters.MAX_INVITES}")

    try:
        if args.sub_district:
            chosen = communities.of_sub_district(args.sub_district)
            if not chosen:
                print(f"no communities in sub-district {args.sub_district}", file=sys.stderr)
                return 1
        else:
            chosen = [communities.get(cid) for cid in community_ids]
    except DomainError as err:
        print(f"{err.message} / {err.message_en}", file=sys.stderr)
        return 1

    args.out.mkdir(parents=True, exist_ok=True)
    for community in chosen:
        stem = f"{_safe(community.name)}-{community.community_id}"
        path = args.out / f"poster-{stem}.pdf"
        path.write_bytes(posters.render_poster(posters.poster_of(community)))
        print(f"{community.name}: {path}")
        if args.volunteer_invites:
            # The invites are made as the community's sub-district admin would make them.
            issuer = Principal(role="admin", scope_id=community.sub_district_id, subject="script:posters")
            cards = posters.volunteer_invites(issuer, community, args.volunteer_invites)
            sheet = args.out / f"volunteer-invites-{stem}.pdf"
            sheet.write_bytes(posters.render_invite_sheet(community.name, cards))
            print(f"{community.name}: {sheet} ({len(cards)} volunteer invites, valid until {cards[0].expires} Beijing time)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
