/*
 * Multipath TCP (RFC 8684, Linux's IPPROTO_MPTCP): opening a stream socket as MPTCP and
 * telling what a connection turned out to be.  An MPTCP socket moves bytes with the same
 * calls as a TCP one (the kernel spreads them over subflows), so the plain TCP socket ops
 * serve it; only the socket's creation and the logs differ.  Facts from Linux 6.18,
 * checked on this machine:
 *   - an MPTCP listener accepts plain TCP clients: accept() returns a TCP socket
 *     (SO_PROTOCOL 6); an MPTCP client of a plain TCP listener falls back and stays an
 *     MPTCP socket (SO_PROTOCOL 262) whose TCP_IS_MPTCP is 0;
 *   - TCP_IS_MPTCP (SOL_TCP 43) is 1 only while MPTCP is in use;
 *   - MPTCP_INFO's mptcpi_subflows counts the subflows beyond the first;
 *   - an MPTCP socket, fallen back or not, takes no TCP_ULP (ENOPROTOOPT): no kTLS.
 * A kernel without MPTCP fails socket() with EPROTONOSUPPORT (not built), ENOPROTOOPT
 * (sysctl net.mptcp.enabled=0) or EINVAL (older kernels).
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
/* after <netinet/in.h>: the kernel's headers then leave glibc's definitions alone */
#include <linux/mptcp.h>
#include <string.h>
#include <sys/socket.h>

#include "conn/conn.h"

#ifndef TCP_IS_MPTCP
#define TCP_IS_MPTCP 43
#endif
#ifndef SOL_MPTCP
#define SOL_MPTCP 284
#endif

int nvmf_sock_open(int family, bool mptcp, int flags)
{
	int fd = socket(family, SOCK_STREAM | flags, mptcp ? IPPROTO_MPTCP : 0);

	if (fd >= 0)
		return fd;
	if (mptcp && (errno == EPROTONOSUPPORT || errno == ENOPROTOOPT || errno == EINVAL))
		return -EPROTONOSUPPORT;
	return -errno;
}

const char *nvmf_sock_mptcp_unavailable(void)
{
	return "this kernel offers no MPTCP (CONFIG_MPTCP, sysctl net.mptcp.enabled=1)";
}

bool nvmf_sock_is_mptcp(int fd)
{
	int proto = 0;
	socklen_t len = sizeof(proto);

	return getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) == 0 &&
	       proto == IPPROTO_MPTCP;
}

int nvmf_sock_mptcp_subflows(int fd)
{
	struct mptcp_info info;
	socklen_t len = sizeof(info);
	int on = 0;
	socklen_t ol = sizeof(on);

	if (getsockopt(fd, SOL_TCP, TCP_IS_MPTCP, &on, &ol) < 0 || !on)
		return nvmf_sock_is_mptcp(fd) ? 0 : -1;
	memset(&info, 0, sizeof(info));
	if (getsockopt(fd, SOL_MPTCP, MPTCP_INFO, &info, &len) < 0)
		return 1;
	return 1 + info.mptcpi_subflows;
}
