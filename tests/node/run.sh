#!/usr/bin/env bash
# Runs vantage_client_test.mjs against a live Costline (gunicorn) on a fresh SQLite database.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
py="$root/.venv/bin/python"

cd "$here"
npm ci --no-audit --no-fund --loglevel=error

workdir="$(mktemp -d)"
export DATABASE_URL="sqlite:///$workdir/node-client.sqlite3"
export CELERY_TASK_ALWAYS_EAGER=true
unset REDIS_URL CELERY_BROKER_URL || true
cd "$root"
"$py" manage.py migrate --noinput -v 0
org="$("$py" manage.py create_org "Vantage client check" | tail -n 1)"
token="$("$py" manage.py create_api_token --org "$org" --name node --scopes read,write | tail -n 1)"
read_token="$("$py" manage.py create_api_token --org "$org" --name node-read --scopes read | tail -n 1)"
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
COSTLINE_URL="http://127.0.0.1:$port" COSTLINE_TOKEN="$token" COSTLINE_READ_TOKEN="$read_token" \
  node vantage_client_test.mjs || { echo "--- server log"; tail -n 50 "$workdir/server.log"; exit 1; }
