#!/usr/bin/env bash
# Install the Debian packages obi-ts needs to build and run (and, with --test, the
# servers and clients its tests use; with --lint, the linters `make lint` runs; --test includes
# --lint). Idempotent: only missing packages are installed.
set -euo pipefail
build=(clang llvm libbpf-dev libelf-dev zlib1g-dev bpftool make gcc binutils pkg-config)
test=(nginx python3 python3-kafka curl wamerican wrk redis-server redis-tools postgresql mariadb-server mariadb-client memcached prometheus gnutls-bin openssl python3-pymongo dnsmasq-base bind9-dnsutils nats-server mosquitto mosquitto-clients rabbitmq-server python3-pika python3-grpcio golang-go golang-golang-x-net-dev systemd docker.io debootstrap libcap2-bin python3-graphene python3-aiohttp awscli php-cli php-fpm php-mysql openjdk-17-jdk-headless)
# the Node.js context correlation test also runs on the system's Node (test/integration/node-context.test.ts)
test+=(nodejs)
lint=(clang-format)
want=("${build[@]}")
[ "${1:-}" = "--test" ] && want+=("${test[@]}" "${lint[@]}")
[ "${1:-}" = "--lint" ] && want+=("${lint[@]}")
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "obi-ts: missing packages ${missing[*]}; run as root or install them" >&2; exit 1
fi
echo "obi-ts: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# wait for another apt/dpkg run (a parallel build, unattended upgrades) instead of failing on its lock
lock=(-o DPkg::Lock::Timeout=900)
apt-get "${lock[@]}" update -qq
apt-get "${lock[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
