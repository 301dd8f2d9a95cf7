#!/usr/bin/env bash
# Time the whole book under the full profile on the full-size synthetic stand-in, one chapter
# at a time, and write what was measured as a recorded.json entry ("full_profile_run").
#
# Usage:  bash .ci/time_full_profile.sh [OUT.json]        (default: _build/full_profile_run.json)
#
# Each chapter of _toc.yml is run by `jupyter nbconvert --execute` (into a temporary folder;
# the notebooks in the repository are not changed) under /usr/bin/time -v, which gives its
# wall-clock time and the peak resident memory of nbconvert and the kernel it waited for.
# Expect up to about 30 minutes on a 2-core machine. Paste the printed entry into
# recsys_ae/chapters/recorded.json under "full_profile_run"; book/how_to_run.md shows it.
# Assumes the virtual environment is active (jupyter, recsys_ae installed).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-_build/full_profile_run.json}"
mkdir -p "$(dirname "$out")"
[ -x /usr/bin/time ] || { echo "time_full_profile: /usr/bin/time not found (Debian: apt-get install time)" >&2; exit 1; }

export RECSYS_AE_DATASET=synthetic RECSYS_AE_SYNTHETIC_SIZE=full RECSYS_AE_PROFILE=full
unset RECSYS_AE_SEED
export KERAS_BACKEND="${KERAS_BACKEND:-tensorflow}" TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# TIME_FULL_PROFILE_CHAPTERS="a.ipynb b.ipynb" runs those instead (to try the script quickly)
chapters="${TIME_FULL_PROFILE_CHAPTERS:-}"
[ -n "$chapters" ] || chapters=$(python - <<'PY'
import yaml
toc = yaml.safe_load(open("_toc.yml"))
for part in toc.get("parts", []):
    for chapter in part.get("chapters", []):
        if chapter["file"].startswith("notebooks/"):
            print(chapter["file"] + ".ipynb")
PY
)
status=0
for nb in $chapters; do
    stem="$(basename "$nb" .ipynb)"
    echo "time_full_profile: $stem ..." >&2
    set +e
    /usr/bin/time -v -o "$work/$stem.time" \
        jupyter nbconvert --to notebook --execute --ExecutePreprocessor.timeout=-1 \
        --output-dir "$work" --output "$stem" "$nb" > "$work/$stem.log" 2>&1
    rc=$?
    set -e
    echo "$rc" > "$work/$stem.rc"
    [ "$rc" -eq 0 ] || { status=1; echo "time_full_profile: $stem FAILED (exit $rc); log:" >&2; tail -20 "$work/$stem.log" >&2; }
done

python - "$work" "$out" $chapters <<'PY'
import datetime, json, os, platform, re, subprocess, sys
from pathlib import Path

work, out, chapters = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:]

def field(text, label):
    m = re.search(rf"^\s*{re.escape(label)}: (.+)$", text, re.MULTILINE)
    return m.group(1).strip() if m else None

def wall_seconds(value):  # "h:mm:ss" or "m:ss.ss"
    parts = [float(p) for p in value.split(":")]
    return sum(p * 60 ** i for i, p in enumerate(reversed(parts)))

cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")),
           platform.processor() or "unknown CPU")
mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
values, total = {}, 0.0
for nb in chapters:
    stem = Path(nb).stem
    text = (work / f"{stem}.time").read_text() if (work / f"{stem}.time").is_file() else ""
    seconds = wall_seconds(field(text, "Elapsed (wall clock) time (h:mm:ss or m:ss)") or "0")
    peak_kib = int(field(text, "Maximum resident set size (kbytes)") or 0)
    rc = int((work / f"{stem}.rc").read_text())
    total += seconds
    values[stem] = {"minutes": round(seconds / 60, 1), "peak_rss_mib": round(peak_kib / 1024),
                    "exit_status": rc}
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                        text=True).stdout.strip()
entry = {"full_profile_run": {
    "description": "Wall-clock minutes and peak resident memory (nbconvert and its kernel, "
                   "/usr/bin/time -v) of each chapter run alone under the full profile on the "
                   "full-size synthetic stand-in (Beauty's 2,023,070 ratings).",
    "date": datetime.date.today().isoformat(),
    "machine": f"{os.cpu_count()} CPU cores ({cpu}), {mem_gib:.0f} GiB memory, "
               f"{platform.system()} {platform.machine()}",
    "command": "RECSYS_AE_DATASET=synthetic RECSYS_AE_SYNTHETIC_SIZE=full RECSYS_AE_PROFILE=full "
               f"bash .ci/time_full_profile.sh (commit {commit}): jupyter nbconvert --execute "
               "per chapter under /usr/bin/time -v",
    "unit": "minutes; MiB",
    "values": {"chapters": values, "total_minutes": round(total / 60, 1),
               "peak_rss_mib": max((v["peak_rss_mib"] for v in values.values()), default=0)},
}}
out.write_text(json.dumps(entry, indent=1) + "\n")
print(json.dumps(entry, indent=1))
print(f"\nwritten to {out}; paste the entry into recsys_ae/chapters/recorded.json", file=sys.stderr)
PY
exit $status
