# Network namespaces and veth links for the integration tests that need a real network
# path (sourced, bash): a host namespace and a target namespace joined by veth pairs whose
# two ends are created straight inside the namespaces, so nothing appears in the caller's.
# Every namespace made here is deleted by netns_cleanup (call it from the test's EXIT trap,
# after stopping the processes that run inside).
# shellcheck shell=bash

NETNS_MADE=()

# netns_add NAME...: creates the namespaces, loopback up; fails (status 1) at the first
# that cannot be made (not root, no CONFIG_NET_NS) - the caller decides whether that skips.
netns_add() {
	local ns
	for ns in "$@"; do
		ip netns add "$ns" 2>/dev/null || return 1
		NETNS_MADE+=("$ns")
		ip -n "$ns" link set lo up || return 1
	done
}

# netns_link NS1 DEV1 ADDR1 NS2 DEV2 ADDR2 [PREFIX]: a veth pair DEV1 (in NS1, ADDR1/PREFIX)
# -- DEV2 (in NS2, ADDR2/PREFIX), both ends up.  PREFIX defaults to 24.
netns_link() {
	local n1=$1 d1=$2 a1=$3 n2=$4 d2=$5 a2=$6 len=${7:-24}
	ip link add "$d1" netns "$n1" type veth peer name "$d2" netns "$n2" &&
	ip -n "$n1" addr add "$a1/$len" dev "$d1" &&
	ip -n "$n2" addr add "$a2/$len" dev "$d2" &&
	ip -n "$n1" link set "$d1" up &&
	ip -n "$n2" link set "$d2" up
}

# netns_cleanup: deletes every namespace netns_add made (their veths go with them).
netns_cleanup() {
	local ns
	for ns in "${NETNS_MADE[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	NETNS_MADE=()
}
