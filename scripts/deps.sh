# shellcheck shell=bash
# scripts/deps.sh - sourced by scripts/demo and scripts/test: installs the
# Debian packages timebank needs, only those missing.  apt-get update runs at
# most once, and only when something must be installed.  Uses sudo when not
# root.  Works without a terminal (CI=true, no stdin).

tb_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Build packages (scripts/demo needs only these).
TB_PACKAGES=(build-essential cmake pkg-config liblmdb-dev libsodium-dev
	libevent-dev libqrencode-dev)
# What scripts/test adds, one reason each: valgrind (memcheck stage),
# lmdb-utils (e2e_tampered_checkpoint edits a ledger with mdb_dump and
# mdb_load), clang and libclang-rt-14-dev (the clang stage: -Werror build,
# libFuzzer harnesses), libsqlite3-dev (timebank-bench's SQLite baseline,
# which its smoke test runs), libcurl4-openssl-dev (`timebank audit` of an
# http(s) mirror, e2e_audit_http), lintian (install_deb), openssh-server and
# openssh-client (e2e_ssh_tunnel; install_units verifies the tunnel unit),
# strace (install_syscalls; e2e_signer: only the signer opens log.key),
# systemd (systemd-analyze: install_units, install_syscalls), prometheus
# (promtool check metrics: e2e_metrics), chromium (e2e_audit_report renders
# the --html page headless and screenshots it), zbar-tools (zbarimg decodes
# the receipt slip's QR code: e2e_receipt).
TB_TEST_PACKAGES=(valgrind lmdb-utils clang libclang-rt-14-dev libsqlite3-dev
	libcurl4-openssl-dev lintian openssh-server openssh-client strace systemd
	prometheus chromium zbar-tools)

# scripts/walkthrough's machines (not a CI stage): debootstrap makes the
# Debian roots, systemd-container's systemd-nspawn boots them.
TB_WALK_PACKAGES=(debootstrap systemd-container)

tb_install_deps() {
	local missing=() pkg sudo=()
	for pkg in "$@"; do
		if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null |
			grep -q 'install ok installed'; then
			missing+=("$pkg")
		fi
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		if ! command -v sudo >/dev/null 2>&1; then
			echo "timebank: missing packages: ${missing[*]}" >&2
			echo "timebank: run as root or install sudo" >&2
			return 1
		fi
		sudo=(sudo)
	fi
	echo "timebank: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	"${sudo[@]}" apt-get update -qq </dev/null || return 1
	"${sudo[@]}" apt-get install -y -qq --no-install-recommends \
		"${missing[@]}" </dev/null || return 1
}
