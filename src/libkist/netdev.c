/* linux.netDevices over rtnetlink, from the parent: one NETLINK_ROUTE
 * socket in kist's network namespace and one made inside the container's
 * (setns there and back; a socket keeps the namespace it was made in).
 * Moving an interface drops its addresses, so the permanent global ones are
 * read first and added back inside. When the namespace dies the kernel
 * returns physical interfaces to the initial namespace and destroys virtual
 * ones (veth, macvlan, ...): kist never moves them out on delete.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fmt.h"
#include "netdev.h"
#include "util.h"

#define NL_BUFSIZE 32768

bool kist_netdev_wanted(const oci_config *cfg)
{
  return cfg->linux && cfg->linux->net_devices && cfg->linux->net_devices->len > 0;
}

static const char *target_name(const oci_config *cfg, size_t i)
{
  const oci_net_device *d = cfg->linux->net_devices->values[i];
  return d && d->name && d->name[0] ? d->name : cfg->linux->net_devices->keys[i];
}

/* The kernel's rule (dev_valid_name), plus at most one "%d" template. */
static bool valid_ifname(const char *s, bool template_ok)
{
  size_t n = strlen(s);
  if (n == 0 || n >= IFNAMSIZ || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
    return false;
  for (const char *p = s; *p; p++)
    if (*p == '/' || *p == ':' || *p == ' ' || (*p >= '\t' && *p <= '\r'))
      return false;
  const char *pct = strchr(s, '%');
  if (pct && (!template_ok || pct[1] != 'd' || strchr(pct + 1, '%')))
    return false;
  return true;
}

int kist_netdev_validate(const oci_config *cfg, const struct kist_ns_plan *plan, kist_error_t *err)
{
  if (!kist_netdev_wanted(cfg))
    return 0;
  bool own = plan->new_flags & CLONE_NEWNET;
  if (!own && plan->join_fd[KIST_NS_NET] >= 0) {
    struct stat a, b;
    own = !(fstat(plan->join_fd[KIST_NS_NET], &a) == 0 && stat("/proc/self/ns/net", &b) == 0 &&
            a.st_dev == b.st_dev && a.st_ino == b.st_ino);
  }
  if (!own)
    return kist_fail(err, 0,
                     "linux.netDevices: needs a network namespace of the container's own "
                     "(linux.namespaces has no new or joined network namespace)");
  const oci_map_net_device *m = cfg->linux->net_devices;
  for (size_t i = 0; i < m->len; i++) {
    const char *key = m->keys[i], *to = target_name(cfg, i);
    if (!valid_ifname(key, false))
      return kist_fail(err, 0, "linux.netDevices.%s: not a valid interface name", key);
    if (!valid_ifname(to, true))
      return kist_fail(err, 0, "linux.netDevices.%s.name: '%s' is not a valid interface name", key,
                       to);
    if (if_nametoindex(key) == 0)
      return kist_fail(err, errno == ENODEV ? 0 : errno,
                       "linux.netDevices.%s: no such network interface on the host", key);
    for (size_t j = 0; j < i && !strchr(to, '%'); j++)
      if (strcmp(target_name(cfg, j), to) == 0)
        return kist_fail(err, 0, "linux.netDevices.%s.name: '%s' is also the name of %s", key, to,
                         m->keys[j]);
  }
  return 0;
}

/* ---- a small rtnetlink client ---- */

static int nl_socket(int netns_fd, kist_error_t *err)
{
  if (netns_fd < 0) {
    int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (s < 0)
      return kist_fail(err, errno, "linux.netDevices: netlink socket");
    return s;
  }
  cleanup_close int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (self < 0)
    return kist_fail(err, errno, "linux.netDevices: open /proc/thread-self/ns/net");
  if (setns(netns_fd, CLONE_NEWNET) < 0)
    return kist_fail(err, errno, "linux.netDevices: enter the container's network namespace");
  int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  int e = errno;
  if (setns(self, CLONE_NEWNET) < 0) {
    /* Everything kist does next would happen in the container's network
     * namespace: not a state to go on in. */
    kist_fail(err, errno, "linux.netDevices: return to kist's network namespace");
    abort();
  }
  if (s < 0)
    return kist_fail(err, e, "linux.netDevices: netlink socket in the container");
  return s;
}

struct nlmsg {
  union {
    struct nlmsghdr h;
    char buf[1024];
  };
};

static void nl_init(struct nlmsg *m, unsigned short type, unsigned short flags, const void *body,
                    size_t len)
{
  memset(m, 0, sizeof *m);
  m->h.nlmsg_len = (uint32_t)NLMSG_LENGTH(len);
  m->h.nlmsg_type = type;
  m->h.nlmsg_flags = NLM_F_REQUEST | flags;
  memcpy(NLMSG_DATA(&m->h), body, len);
}

static void nl_attr(struct nlmsg *m, unsigned short type, const void *data, size_t len)
{
  size_t off = NLMSG_ALIGN(m->h.nlmsg_len);
  if (off + RTA_SPACE(len) > sizeof m->buf)
    abort(); /* our own messages are small and fixed */
  struct rtattr *a = (struct rtattr *)(m->buf + off);
  a->rta_type = type;
  a->rta_len = (unsigned short)RTA_LENGTH(len);
  memcpy(RTA_DATA(a), data, len);
  m->h.nlmsg_len = (uint32_t)(off + RTA_SPACE(len));
}

typedef int (*nl_cb)(const struct nlmsghdr *h, void *opaque);

/* Sends m and reads the answer: the ack (returns 0 or -errno), or for a
 * dump every message through cb until NLMSG_DONE. */
static int nl_talk(int s, struct nlmsg *m, nl_cb cb, void *opaque)
{
  static uint32_t seq;
  m->h.nlmsg_seq = ++seq;
  if (cb == NULL)
    m->h.nlmsg_flags |= NLM_F_ACK;
  struct sockaddr_nl to = {.nl_family = AF_NETLINK};
  if (sendto(s, m, m->h.nlmsg_len, 0, (struct sockaddr *)&to, sizeof to) < 0)
    return -errno;
  cleanup_free char *buf = xmalloc(NL_BUFSIZE);
  for (;;) {
    ssize_t got = recv(s, buf, NL_BUFSIZE, 0);
    if (got < 0 && errno == EINTR)
      continue;
    if (got < 0)
      return -errno;
    if (got == 0)
      return -EPROTO;
    int n = (int)got;
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_seq != m->h.nlmsg_seq)
        continue;
      if (h->nlmsg_type == NLMSG_ERROR) {
        const struct nlmsgerr *e = NLMSG_DATA(h);
        return e->error;
      }
      if (h->nlmsg_type == NLMSG_DONE)
        return 0;
      if (cb) {
        int r = cb(h, opaque);
        if (r < 0)
          return r;
      }
    }
  }
}

struct link {
  int index;
  char name[IFNAMSIZ];
};

struct links {
  struct link *v;
  size_t n;
};

static int link_cb(const struct nlmsghdr *h, void *opaque)
{
  struct links *l = opaque;
  if (h->nlmsg_type != RTM_NEWLINK)
    return 0;
  const struct ifinfomsg *ifi = NLMSG_DATA(h);
  struct link k = {.index = ifi->ifi_index};
  int len = (int)IFLA_PAYLOAD(h);
  for (const struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len))
    if (a->rta_type == IFLA_IFNAME)
      kist_snprintf(k.name, sizeof k.name, "%.*s", (int)RTA_PAYLOAD(a), (const char *)RTA_DATA(a));
  l->v = xrealloc(l->v, (l->n + 1) * sizeof *l->v);
  l->v[l->n++] = k;
  return 0;
}

static int link_list(int s, struct links *l)
{
  free(l->v);
  l->v = NULL;
  l->n = 0;
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
  struct nlmsg m;
  nl_init(&m, RTM_GETLINK, NLM_F_DUMP, &ifi, sizeof ifi);
  return nl_talk(s, &m, link_cb, l);
}

static const struct link *link_by_name(const struct links *l, const char *name)
{
  for (size_t i = 0; i < l->n; i++)
    if (strcmp(l->v[i].name, name) == 0)
      return &l->v[i];
  return NULL;
}

static const struct link *link_by_index(const struct links *l, int index)
{
  for (size_t i = 0; i < l->n; i++)
    if (l->v[i].index == index)
      return &l->v[i];
  return NULL;
}

/* RTM_NEWLINK on one interface: into netns_fd (-1: stay), renamed (NULL:
 * keep), up or not. */
static int link_set(int s, int index, int netns_fd, const char *name, bool up)
{
  struct ifinfomsg ifi = {
    .ifi_family = AF_UNSPEC,
    .ifi_index = index,
    .ifi_flags = up ? IFF_UP : 0,
    .ifi_change = up ? IFF_UP : 0,
  };
  struct nlmsg m;
  nl_init(&m, RTM_NEWLINK, 0, &ifi, sizeof ifi);
  if (netns_fd >= 0) {
    uint32_t fd = (uint32_t)netns_fd;
    nl_attr(&m, IFLA_NET_NS_FD, &fd, sizeof fd);
  }
  if (name)
    nl_attr(&m, IFLA_IFNAME, name, strlen(name) + 1);
  return nl_talk(s, &m, NULL, NULL);
}

/* Permanent global addresses of one interface, as RTM_NEWADDR requests. */
struct addrs {
  int index;
  struct nlmsg *v;
  size_t n;
};

static int addr_cb(const struct nlmsghdr *h, void *opaque)
{
  struct addrs *l = opaque;
  if (h->nlmsg_type != RTM_NEWADDR)
    return 0;
  const struct ifaddrmsg *ifa = NLMSG_DATA(h);
  if ((int)ifa->ifa_index != l->index || ifa->ifa_scope != RT_SCOPE_UNIVERSE)
    return 0;
  uint32_t flags = ifa->ifa_flags;
  int len = (int)IFA_PAYLOAD(h);
  for (const struct rtattr *a = IFA_RTA(ifa); RTA_OK(a, len); a = RTA_NEXT(a, len))
    if (a->rta_type == IFA_FLAGS && RTA_PAYLOAD(a) >= sizeof(uint32_t))
      memcpy(&flags, RTA_DATA(a), sizeof flags);
  if (!(flags & IFA_F_PERMANENT))
    return 0;
  struct ifaddrmsg body = *ifa;
  body.ifa_flags = (unsigned char)(flags & 0xff);
  struct nlmsg m;
  nl_init(&m, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, &body, sizeof body);
  len = (int)IFA_PAYLOAD(h);
  for (const struct rtattr *a = IFA_RTA(ifa); RTA_OK(a, len); a = RTA_NEXT(a, len))
    if (a->rta_type == IFA_LOCAL || a->rta_type == IFA_ADDRESS || a->rta_type == IFA_BROADCAST)
      nl_attr(&m, a->rta_type, RTA_DATA(a), RTA_PAYLOAD(a));
  uint32_t keep = flags & ~(uint32_t)(IFA_F_TENTATIVE | IFA_F_DADFAILED | IFA_F_DEPRECATED);
  nl_attr(&m, IFA_FLAGS, &keep, sizeof keep);
  l->v = xrealloc(l->v, (l->n + 1) * sizeof *l->v);
  l->v[l->n++] = m;
  return 0;
}

static int addr_list(int s, int index, struct addrs *l)
{
  l->index = index;
  struct ifaddrmsg ifa = {.ifa_family = AF_UNSPEC};
  struct nlmsg m;
  nl_init(&m, RTM_GETADDR, NLM_F_DUMP, &ifa, sizeof ifa);
  return nl_talk(s, &m, addr_cb, l);
}

/* ---- moving ---- */

struct mover {
  int host, ct; /* netlink sockets: kist's namespace, the container's */
  int nsfd;     /* the container's network namespace */
  struct links hl, cl;
};

static int move_one(struct mover *mv, const char *key, const char *to, kist_error_t *err)
{
  int r = link_list(mv->host, &mv->hl);
  if (r == 0)
    r = link_list(mv->ct, &mv->cl);
  if (r < 0)
    return kist_fail(err, -r, "linux.netDevices.%s: list interfaces", key);
  const struct link *h = link_by_name(&mv->hl, key);
  if (h == NULL)
    return kist_fail(err, 0, "linux.netDevices.%s: no such network interface on the host", key);
  int hindex = h->index;
  bool pattern = strchr(to, '%') != NULL;
  if (!pattern && link_by_name(&mv->cl, to))
    return kist_fail(err, 0,
                     "linux.netDevices.%s.name: %s already exists in the container's network "
                     "namespace",
                     key, to);
  struct addrs ad = {0};
  r = addr_list(mv->host, hindex, &ad);
  cleanup_free struct nlmsg *addrs = ad.v;
  if (r < 0)
    return kist_fail(err, -r, "linux.netDevices.%s: read its addresses", key);
  /* The name goes along: the kernel uses it when the host name is taken
   * in the container (and renames there on recent kernels). */
  r = link_set(mv->host, hindex, mv->nsfd, to, false);
  if (r < 0)
    return kist_fail(err, -r, "linux.netDevices.%s: move into the container's network namespace",
                     key);
  /* Which interface is it now: the one that was not there before. */
  struct links before = mv->cl;
  mv->cl = (struct links){0};
  r = link_list(mv->ct, &mv->cl);
  int cindex = 0;
  char now[IFNAMSIZ] = "";
  for (size_t i = 0; r == 0 && i < mv->cl.n; i++)
    if (!link_by_index(&before, mv->cl.v[i].index)) {
      cindex = mv->cl.v[i].index;
      memcpy(now, mv->cl.v[i].name, sizeof now);
    }
  free(before.v);
  if (cindex == 0)
    return kist_fail(err, r < 0 ? -r : 0, "linux.netDevices.%s: lost after the move", key);
  if (strcmp(now, to) != 0 && (!pattern || strcmp(now, key) == 0)) {
    r = link_set(mv->ct, cindex, -1, to, false);
    if (r < 0)
      return kist_fail(err, -r, "linux.netDevices.%s.name: rename to %s", key, to);
  }
  for (size_t i = 0; i < ad.n; i++) {
    struct ifaddrmsg *ifa = NLMSG_DATA(&addrs[i].h);
    ifa->ifa_index = (uint32_t)cindex;
    r = nl_talk(mv->ct, &addrs[i], NULL, NULL);
    if (r < 0)
      return kist_fail(err, -r, "linux.netDevices.%s: restore an address", key);
  }
  r = link_set(mv->ct, cindex, -1, NULL, true);
  if (r < 0)
    return kist_fail(err, -r, "linux.netDevices.%s: set it up", key);
  return 0;
}

static int mover_open(struct mover *mv, int nsfd, kist_error_t *err)
{
  *mv = (struct mover){.host = -1, .ct = -1, .nsfd = nsfd};
  mv->host = nl_socket(-1, err);
  if (mv->host < 0)
    return -1;
  mv->ct = nl_socket(mv->nsfd, err);
  return mv->ct < 0 ? -1 : 0;
}

static void mover_close(struct mover *mv)
{
  int fds[] = {mv->host, mv->ct};
  for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
    if (fds[i] >= 0)
      close(fds[i]);
  free(mv->hl.v);
  free(mv->cl.v);
}

int kist_netdev_move(const oci_config *cfg, pid_t pid, int *netns_fd, kist_error_t *err)
{
  if (!kist_netdev_wanted(cfg))
    return 0;
  char path[64];
  kist_snprintf(path, sizeof path, "/proc/%d/ns/net", (int)pid);
  *netns_fd = open(path, O_RDONLY | O_CLOEXEC);
  if (*netns_fd < 0)
    return kist_fail(err, errno, "linux.netDevices: open %s", path);
  struct mover mv;
  int r = mover_open(&mv, *netns_fd, err);
  const oci_map_net_device *m = cfg->linux->net_devices;
  for (size_t i = 0; r == 0 && i < m->len; i++)
    r = move_one(&mv, m->keys[i], target_name(cfg, i), err);
  mover_close(&mv);
  return r;
}

void kist_netdev_return(const oci_config *cfg, int netns_fd)
{
  if (!kist_netdev_wanted(cfg) || netns_fd < 0)
    return;
  kist_error_t err = NULL;
  struct mover mv;
  int r = mover_open(&mv, netns_fd, &err);
  kist_error_release(&err);
  cleanup_close int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  if (r < 0 || self < 0) {
    mover_close(&mv);
    return;
  }
  const oci_map_net_device *d = cfg->linux->net_devices;
  for (size_t i = 0; i < d->len; i++) {
    const char *key = d->keys[i], *to = target_name(cfg, i);
    if (strchr(to, '%') || link_list(mv.ct, &mv.cl) < 0 || link_list(mv.host, &mv.hl) < 0)
      continue; /* a templated name cannot be told from the container's own */
    const struct link *c = link_by_name(&mv.cl, to);
    if (c == NULL || link_by_name(&mv.hl, key))
      continue;
    int index = c->index;
    /* Back under its host name (the name is used when `to` is taken). */
    if (link_set(mv.ct, index, -1, key, false) == 0)
      (void)link_set(mv.ct, index, self, NULL, false);
  }
  mover_close(&mv);
}

int kist_netns_loopback_up(kist_error_t *err)
{
  cleanup_close int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0)
    return kist_fail(err, errno, "network namespace: socket to set lo up");
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strcpy(ifr.ifr_name, "lo");
  if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
    return kist_fail(err, errno, "network namespace: flags of lo");
  if (ifr.ifr_flags & IFF_UP)
    return 0;
  ifr.ifr_flags |= IFF_UP;
  if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
    return kist_fail(err, errno, "network namespace: set lo up");
  return 0;
}
