# A Debian 13 (trixie) root for the peers Debian 12 lacks: tlshd (ktls-utils 1.0.0), which
# makes the kernel's TLS handshakes, and nvme-cli 2.13, which has --tls. Built once per
# machine with debootstrap from the archive this machine's apt already uses (the same
# archive serves trixie), cached next to the test bed's kernel, and chrooted into inside
# the guest. Sourced after lib/testbed.sh (TB_CACHE, tb_lock, tb_say, tb_die).
#
# Layout: $TB_CACHE/debian13-<hash>/ (hash of the package list below), with a file
# .ready once complete. NVMF_DEBIAN13_SUITE overrides the suite (default trixie).
# shellcheck shell=bash

D13_SUITE=${NVMF_DEBIAN13_SUITE:-trixie}
D13_PACKAGES=(nvme-cli ktls-utils keyutils)

# d13_archive_uri: the archive this machine's apt uses for its own release (the suite named
# after VERSION_CODENAME, not -security or -updates), from sources.list and
# sources.list.d, one-line and deb822 forms. Prints nothing when there is none.
d13_archive_uri() {
	local codename f
	codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	[ -n "$codename" ] || return 0
	{
		for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
			[ -f "$f" ] || continue
			# deb [options] URI SUITE COMPONENT...; the options may hold spaces
			sed -e 's/#.*//' -e 's/\[[^]]*\]//' "$f" |
				awk -v s="$codename" '$1 == "deb" && $3 == s { print $2 }'
		done
		for f in /etc/apt/sources.list.d/*.sources; do
			[ -f "$f" ] || continue
			awk -v s="$codename" '
				function flush() {
					if (types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " s " ") && enabled != "no")
						print uri
					types = suites = uri = enabled = ""
				}
				/^[ \t]*#/ { next }
				/^[ \t]*$/ { flush(); next }
				{
					key = tolower($1); sub(/:$/, "", key)
					val = $0; sub(/^[^:]*:[ \t]*/, "", val)
					if (key == "types") types = val
					else if (key == "suites") suites = val
					else if (key == "uris") { split(val, u, /[ \t]+/); uri = u[1] }
					else if (key == "enabled") enabled = tolower(val)
				}
				END { flush() }' "$f"
		done
	} | head -n1
}

# d13_ensure_root: sets D13_ROOT to a complete cached root, building it when missing.
d13_ensure_root() {
	local hash work uri m
	hash=$(printf '%s\n' "$D13_SUITE" "${D13_PACKAGES[@]}" | sha256sum | cut -c1-12)
	D13_ROOT=$TB_CACHE/debian13-$hash
	[ -f "$D13_ROOT/.ready" ] && return 0
	command -v debootstrap >/dev/null || tb_die "debootstrap missing: run scripts/install-deps"
	uri=$(d13_archive_uri)
	[ -n "$uri" ] || tb_die "no Debian archive for this release in the apt sources"
	tb_lock
	if [ ! -f "$D13_ROOT/.ready" ]; then
		rm -rf "$TB_CACHE"/.d13.*   # left by a build that was killed; we hold the lock
		work=$(mktemp -d "$TB_CACHE/.d13.XXXXXX")
		tb_say "building a Debian $D13_SUITE root ($(printf '%s ' "${D13_PACKAGES[@]}")) in $D13_ROOT (once per machine)"
		local ok=1
		debootstrap --variant=minbase --include="$(IFS=,; echo "${D13_PACKAGES[*]}")" \
			"$D13_SUITE" "$work" "$uri" >"$work.log" 2>&1 || ok=0
		# debootstrap can leave its proc and sys mounts behind
		for m in $(awk -v w="$work/" 'index($2, w) == 1 { print $2 }' /proc/mounts | sort -r); do
			umount "$m" 2>/dev/null || umount -l "$m"
		done
		if [ $ok -eq 0 ]; then
			tail -n 20 "$work.log" >&2
			rm -rf "$work" "$work.log"
			tb_unlock
			tb_die "debootstrap $D13_SUITE from $uri failed"
		fi
		rm -f "$work.log"
		rm -rf "$work"/var/cache/apt/archives/*.deb "$work"/var/lib/apt/lists/* \
			"$work"/usr/share/doc "$work"/usr/share/man "$work"/usr/share/locale
		printf '%s\n' "${D13_PACKAGES[@]}" >"$work/.ready"
		rm -rf "$D13_ROOT"
		chmod 755 "$work"
		mv "$work" "$D13_ROOT"
		tb_say "Debian $D13_SUITE root cached: $(chroot "$D13_ROOT" dpkg-query -W -f '${Package} ${Version}  ' "${D13_PACKAGES[@]}")"
	fi
	tb_unlock
}
