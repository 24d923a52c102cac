# Kernel test bed cache: fetches the Debian kernel, unpacks vmlinux and modules, builds the
# initramfs and remembers which accelerator works. Sourced by tests/interop/vm-run.
#
# Layout (all under $TB_CACHE, default /var/cache/nvmf-testbed, shared by every clone and
# CI run on the machine; rebuilt automatically when missing):
#   kernel-<release>/root/         the .deb's files (boot/, lib/modules/<release>/ + depmod output)
#   kernel-<release>/vmlinux       ELF kernel unpacked from the bzImage (booted through PVH)
#   kernel-<release>/initramfs-<hash>.cpio   busybox + boot modules + lib/initramfs-init (one per
#                                  content hash: checkouts with another init keep theirs)
#   kernel-<release>/ready         stamp: the cache entry is complete
#   accel-<hash>                   the probed accelerator verdict (kvm or tcg)
# Environment knobs:
#   NVMF_TESTBED_CACHE   cache directory
#   NVMF_TESTBED_KPKG    kernel package (default: the linux-image-6.12-amd64 meta package)
#   NVMF_TESTBED_KERNEL  kernel release to use from the cache (default: newest cached one)
#   NVMF_TESTBED_ACCEL   kvm | tcg | auto (default auto: probe once, cache the verdict)
#   NVMF_TESTBED_APPEND  extra kernel command line (e.g. "loglevel=7" to see the boot)
# Requires bash with set -euo pipefail in the caller; functions print diagnostics on stderr.
# shellcheck shell=bash

TB_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
if [ -z "${NVMF_TESTBED_CACHE:-}" ]; then
	if [ -w /var/cache ] || [ -w /var/cache/nvmf-testbed ]; then
		NVMF_TESTBED_CACHE=/var/cache/nvmf-testbed
	else
		# Not root: a per-user cache still lets the bed run (qemu only needs to read).
		NVMF_TESTBED_CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/nvmf-testbed
	fi
fi
TB_CACHE=$NVMF_TESTBED_CACHE
TB_KPKG=${NVMF_TESTBED_KPKG:-linux-image-6.12-amd64}
# Modules the initramfs needs before it can reach the host's root over 9p; their
# dependencies (netfs, 9pnet) come from modules.dep. Built-in ones are skipped.
TB_BOOT_MODULES=(virtio_pci virtio_console 9pnet_virtio 9p overlay configfs)

tb_say() { echo "vm-run: $*" >&2; }
tb_die() { echo "vm-run: error: $*" >&2; exit 125; }

# Serialises cache builds between concurrent vm-run (and CI) invocations.
tb_lock() {
	mkdir -p "$TB_CACHE"
	exec {TB_LOCK_FD}>"$TB_CACHE/.lock"
	flock "$TB_LOCK_FD"
}
tb_unlock() { exec {TB_LOCK_FD}>&-; }

# Name of the real kernel image package behind the meta package (or the name itself).
tb_resolve_kpkg() {
	local cand dep
	cand=$(apt-cache policy "$TB_KPKG" 2>/dev/null | sed -n 's/^ *Candidate: //p')
	if [ -z "$cand" ] || [ "$cand" = "(none)" ]; then
		# Fresh machine: package lists may be missing or stale.
		tb_say "apt-get update (package lists lack $TB_KPKG)"
		apt-get update -q >&2 || true
		cand=$(apt-cache policy "$TB_KPKG" 2>/dev/null | sed -n 's/^ *Candidate: //p')
	fi
	[ -n "$cand" ] && [ "$cand" != "(none)" ] || tb_die "no package $TB_KPKG in the apt sources"
	dep=$(apt-cache show "$TB_KPKG=$cand" | sed -n 's/^Depends: .*\(linux-image-[0-9][^ ,]*\).*/\1/p' | head -n1)
	echo "${dep:-$TB_KPKG}"
}

# extract-vmlinux: find the zstd/xz/gzip stream in the bzImage whose output is an ELF file.
tb_extract_vmlinux() {   # tb_extract_vmlinux BZIMAGE OUT
	local img=$1 out=$2 magic tool pos
	for pair in '\x28\xb5\x2f\xfd:zstd -dcq' '\xfd\x37\x7a\x58\x5a\x00:xz -dcq' '\x1f\x8b\x08:gzip -dcq'; do
		magic=${pair%%:*} tool=${pair#*:}
		command -v "${tool%% *}" >/dev/null || continue
		for pos in $(LC_ALL=C grep -aboP "$magic" "$img" | cut -d: -f1); do
			# Trailing bytes after the stream make the decompressor complain; the ELF check decides.
			tail -c+$((pos + 1)) "$img" | $tool >"$out" 2>/dev/null || true
			if [ "$(head -c4 "$out" | od -An -tx1 | tr -d ' ')" = 7f454c46 ]; then
				return 0
			fi
		done
	done
	rm -f "$out"
	return 1
}

# Makes sure a kernel is cached; sets TB_KREL, TB_KDIR, TB_VMLINUX, TB_MODROOT.
tb_ensure_kernel() {
	local want=${NVMF_TESTBED_KERNEL:-} d
	if [ -z "$want" ]; then
		# Prefer what is already cached: no registry traffic on the hot path.
		for d in $(ls -d "$TB_CACHE"/kernel-*/ready 2>/dev/null | sed 's,/ready$,,' | sort -V -r); do
			want=${d##*/kernel-}
			break
		done
	fi
	if [ -z "$want" ] || [ ! -e "$TB_CACHE/kernel-$want/ready" ]; then
		tb_lock
		if [ -z "$want" ] || [ ! -e "$TB_CACHE/kernel-$want/ready" ]; then
			tb_build_kernel
			want=$TB_KREL
		fi
		tb_unlock
	fi
	TB_KREL=$want
	TB_KDIR=$TB_CACHE/kernel-$TB_KREL
	TB_VMLINUX=$TB_KDIR/vmlinux
	TB_MODROOT=$TB_KDIR/root
	[ -s "$TB_VMLINUX" ] && [ -d "$TB_MODROOT/lib/modules/$TB_KREL" ] ||
		tb_die "cache entry $TB_KDIR is incomplete; remove it and retry"
}

tb_build_kernel() {   # called with the lock held; sets TB_KREL
	local pkg work deb rel
	for t in apt-get dpkg-deb depmod zstd; do
		command -v "$t" >/dev/null || tb_die "$t missing: run scripts/install-deps"
	done
	rm -rf "$TB_CACHE"/.build.*   # left by a build that was killed; we hold the lock
	pkg=$(tb_resolve_kpkg)
	tb_say "building kernel cache from $pkg in $TB_CACHE (once per machine)"
	work=$(mktemp -d "$TB_CACHE/.build.XXXXXX")
	# apt downloads as its sandbox user when that user can write the target directory.
	chown _apt "$work" 2>/dev/null || true
	(cd "$work" && apt-get download -q "$pkg" >&2) || { rm -rf "$work"; tb_die "apt-get download $pkg failed"; }
	chown "$(id -u)" "$work" 2>/dev/null || true
	deb=$(ls "$work"/*.deb | head -n1)
	dpkg-deb -x "$deb" "$work/root"
	rm -f "$deb"
	rel=$(ls "$work/root/lib/modules" | head -n1)
	[ -n "$rel" ] && [ -f "$work/root/boot/vmlinuz-$rel" ] || { rm -rf "$work"; tb_die "$pkg has no kernel image"; }
	# The .deb ships no modules.dep (its postinst runs depmod); the guest's modprobe needs it.
	depmod -b "$work/root" "$rel"
	tb_extract_vmlinux "$work/root/boot/vmlinuz-$rel" "$work/vmlinux" ||
		{ rm -rf "$work"; tb_die "could not unpack vmlinux from the bzImage"; }
	rm -f "$work/root/boot/vmlinuz-$rel"
	echo "$pkg" >"$work/ready"
	rm -rf "$TB_CACHE/kernel-$rel"
	chmod 755 "$work"
	mv "$work" "$TB_CACHE/kernel-$rel"
	TB_KREL=$rel
	tb_say "kernel $rel cached"
}

# Builds (once per content hash) the initramfs; sets TB_INITRD.
tb_ensure_initramfs() {
	local bb=/bin/busybox hash stage ko list=()
	[ -x "$bb" ] || tb_die "$bb missing: install busybox-static (scripts/install-deps)"
	# A dynamically linked busybox cannot run alone in the initramfs.
	if LC_ALL=C readelf -l "$bb" 2>/dev/null | grep -q 'program interpreter'; then
		tb_die "$bb is not static: install busybox-static"
	fi
	hash=$(cat "$TB_LIB/initramfs-init" "$TB_LIB/testbed.sh" "$bb" | sha256sum | cut -c1-16)
	TB_INITRD=$TB_KDIR/initramfs-$hash.cpio
	if [ -s "$TB_INITRD" ]; then
		# In use: keeps it out of the sweep below (run by a checkout with another hash).
		touch "$TB_INITRD" 2>/dev/null || true
		return 0
	fi
	tb_lock
	if [ ! -s "$TB_INITRD" ]; then
		stage=$(mktemp -d)
		mkdir -p "$stage"/{bin,sbin,dev,proc,sys,lower,newroot,rw,tmp,lib/modules}
		cp "$bb" "$stage/bin/busybox"
		cp "$TB_LIB/initramfs-init" "$stage/init"
		chmod 755 "$stage/init"
		# request_module() runs /sbin/modprobe in the initramfs root (the kernel's usermode
		# helpers keep that root even after init chroots): forward it to the real root's kmod.
		printf '%s\n' '#!/bin/busybox sh' 'exec /bin/busybox chroot /newroot modprobe "$@"' >"$stage/sbin/modprobe"
		chmod 755 "$stage/sbin/modprobe"
		[ "$(id -u)" -ne 0 ] || mknod -m 600 "$stage/dev/console" c 5 1
		# Load order from modules.dep (dependencies first, each once); built-ins are skipped.
		while read -r kind path _; do
			[ "$kind" = insmod ] || continue
			ko=$(basename "$path")
			ko=${ko%.xz}; ko=${ko%.zst}; ko=${ko%.gz}
			[ -e "$stage/lib/modules/$ko" ] && continue
			case $path in
			*.xz) xz -dc "$path" >"$stage/lib/modules/$ko" ;;
			*.zst) zstd -dcq "$path" >"$stage/lib/modules/$ko" ;;
			*.gz) gzip -dc "$path" >"$stage/lib/modules/$ko" ;;
			*) cp "$path" "$stage/lib/modules/$ko" ;;
			esac
			list+=("$ko")
		done < <(modprobe -d "$TB_MODROOT" -S "$TB_KREL" -a --show-depends "${TB_BOOT_MODULES[@]}")
		printf '%s\n' "${list[@]}" >"$stage/modules.order"
		(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$TB_INITRD.tmp"
		rm -rf "$stage"
		# Other hashes belong to other checkouts (branches with another init), maybe booting
		# right now: only those unused for a day go.
		find "$TB_KDIR" -maxdepth 1 -name 'initramfs-*.cpio' -mtime +0 -delete 2>/dev/null || true
		mv "$TB_INITRD.tmp" "$TB_INITRD"
	fi
	tb_unlock
}
