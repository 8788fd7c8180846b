#!/usr/bin/env bash
# Runs every *_test.mjs here against a live Costline (gunicorn) on a fresh SQLite database.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
py="$root/.venv/bin/python"

cd "$here"
npm ci --no-audit --no-fund --loglevel=error

workdir="$(mktemp -d)"
export DATABASE_URL="sqlite:///$workdir/node-client.sqlite3"
export CELERY_TASK_ALWAYS_EAGER=true
export COSTLINE_COLUMNAR_ROOT="$workdir/columnar"
export MEDIA_ROOT="$workdir/media"
unset REDIS_URL CELERY_BROKER_URL || true
cd "$root"
"$py" manage.py migrate --noinput -v 0
org="$("$py" manage.py create_org "Vantage client check" | tail -n 1)"
token="$("$py" manage.py create_api_token --org "$org" --name node --scopes read,write | tail -n 1)"
read_token="$("$py" manage.py create_api_token --org "$org" --name node-read --scopes read | tail -n 1)"
# Reports and costs run in an organization of their own, with cost data (an integration brings a
# system segment, which the segment checks above must not see).
reports_org="$("$py" manage.py create_org "Reports client check" | tail -n 1)"
reports_token="$("$py" manage.py create_api_token --org "$reports_org" --name node --scopes read,write | tail -n 1)"
reports_read_token="$("$py" manage.py create_api_token --org "$reports_org" --name node-read --scopes read | tail -n 1)"
"$py" -c "
from datetime import date
from costs.sample_data import write_focus_csv
write_focus_csv('$workdir/aws.csv', 'aws', rows=400, seed=5, months=[date(2026, 8, 1), date(2026, 9, 1)])
"
"$py" manage.py import_focus --org "$reports_org" --provider aws "$workdir/aws.csv" > /dev/null
port="$("$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"

"$py" -m gunicorn config.wsgi:application --bind "127.0.0.1:$port" --workers 1 --threads 4 \
  --log-level warning > "$workdir/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -rf "$workdir"' EXIT
for _ in $(seq 1 60); do
  if "$py" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/v2/ping')" 2>/dev/null; then
    break
  fi
  sleep 0.5
done

cd "$here"
export COSTLINE_URL="http://127.0.0.1:$port" COSTLINE_TOKEN="$token" COSTLINE_READ_TOKEN="$read_token"
export COSTLINE_REPORTS_TOKEN="$reports_token" COSTLINE_REPORTS_READ_TOKEN="$reports_read_token"
status=0
for test_file in *_test.mjs; do
  echo "# $test_file"
  node "$test_file" || status=1
done
if [ "$status" -ne 0 ]; then
  echo "--- server log"
  tail -n 50 "$workdir/server.log"
fi
exit "$status"
