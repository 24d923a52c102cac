/* This host's identity: /etc/nvme/hostid and hostnqn as nvme-cli keeps them, else derived. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "host/host.h"

int host_parse_uuid(const char *s, uint8_t out[16])
{
	int n = 0;

	for (const char *p = s; *p && n < 32; p++) {
		int v;

		if (*p == '-')
			continue;
		if (*p >= '0' && *p <= '9')
			v = *p - '0';
		else if (*p >= 'a' && *p <= 'f')
			v = *p - 'a' + 10;
		else if (*p >= 'A' && *p <= 'F')
			v = *p - 'A' + 10;
		else
			return -EINVAL;
		if (n % 2 == 0)
			out[n / 2] = (uint8_t)(v << 4);
		else
			out[n / 2] |= (uint8_t)v;
		n++;
	}
	return n == 32 ? 0 : -EINVAL;
}

static int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return -errno;
	if (!fgets(buf, (int)len, f)) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	n = strcspn(buf, " \n\t");
	buf[n] = 0;
	return n ? 0 : -EIO;
}

/*
 * /etc/nvme/hostid if there is one; else the UUID of the hostnqn file; else the machine's
 * DMI product UUID or machine-id shaped as a UUID, so the same machine keeps one identity
 * (the kernel requires hostnqn and hostid to go together).
 */
int nvmf_default_hostid(char *buf, size_t len)
{
	uint8_t u[16];
	char line[300];
	const char *p;

	if (read_line("/etc/nvme/hostid", line, sizeof(line)) == 0 && !host_parse_uuid(line, u)) {
		snprintf(buf, len, "%s", line);
		return 0;
	}
	if (read_line("/etc/nvme/hostnqn", line, sizeof(line)) == 0 &&
	    (p = strstr(line, ":uuid:")) && !host_parse_uuid(p + 6, u)) {
		snprintf(buf, len, "%s", p + 6);
		return 0;
	}
	if ((read_line("/sys/class/dmi/id/product_uuid", line, sizeof(line)) == 0 &&
	     !host_parse_uuid(line, u)) ||
	    (read_line("/etc/machine-id", line, sizeof(line)) == 0 && !host_parse_uuid(line, u))) {
		u[6] = (uint8_t)((u[6] & 0x0F) | 0x40);
		u[8] = (uint8_t)((u[8] & 0x3F) | 0x80);
		snprintf(buf, len,
			 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
			 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11],
			 u[12], u[13], u[14], u[15]);
		return 0;
	}
	return -ENOENT;
}

int nvmf_default_hostnqn(char *buf, size_t len)
{
	char id[64];

	if (read_line("/etc/nvme/hostnqn", buf, len) == 0)
		return 0;
	if (nvmf_default_hostid(id, sizeof(id)))
		return -EIO;
	snprintf(buf, len, "%s%s", NVMF_NQN_UUID_PREFIX, id);
	return 0;
}
