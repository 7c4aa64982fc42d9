#!/usr/bin/env bash
# Make sure the real services the test suite needs are up; start them when they are down.
# Fails with one clear line per service it cannot bring up.
set -u
fail=0

if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  echo "PostgreSQL is down on 127.0.0.1:5432: starting it"
  if [ -d /etc/postgresql ]; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
  fi
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  pg_isready -q -h 127.0.0.1 -p 5432 || { echo "ERROR: cannot start PostgreSQL on 127.0.0.1:5432 (try: pg_ctlcluster --skip-systemctl-redirect \$(ls /etc/postgresql) main start)"; fail=1; }
fi

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "Redis is down on 127.0.0.1:6379: starting it"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
  for _ in $(seq 1 20); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.5; done
  redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 || { echo "ERROR: cannot start Redis on 127.0.0.1:6379 (is redis-server installed?)"; fail=1; }
fi

if [ ! -x /usr/bin/chromium ]; then
  echo "Chromium is missing: installing Debian's chromium package"
  if [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/tmp/chromium-install.log 2>&1 \
      || { echo "ERROR: apt-get install chromium failed; see /tmp/chromium-install.log"; fail=1; }
  else
    echo "ERROR: /usr/bin/chromium is missing and this user cannot apt-get install it (run: sudo apt-get install -y chromium)"; fail=1
  fi
fi

exit $fail
