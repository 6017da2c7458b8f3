// SPDX-License-Identifier: (GPL-2.0-only OR MIT)
// hftd's XDP program: the market data feed's UDP datagrams go to the AF_XDP socket of their
// receive queue; everything else (TCP orders, ARP, other traffic) goes on to the kernel.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

// Written by hftd after loading; all in network byte order. dst_addr 0 matches any address.
struct hft_feed_filter {
  __u32 dst_addr;
  __u16 dst_port;
  __u16 reserved;
};

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct hft_feed_filter);
} hft_feed SEC(".maps");

// Receive queue index -> AF_XDP socket.
struct {
  __uint(type, BPF_MAP_TYPE_XSKMAP);
  __uint(max_entries, 64);
  __type(key, __u32);
  __type(value, __u32);
} hft_xsks SEC(".maps");

// Per-CPU packet counts by verdict, read by tests and `bpftool map dump name hft_verdicts`.
enum { HFT_PASSED = 0, HFT_REDIRECTED = 1, HFT_FRAGMENTS = 2, HFT_VERDICTS = 3 };
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, HFT_VERDICTS);
  __type(key, __u32);
  __type(value, __u64);
} hft_verdicts SEC(".maps");

static __always_inline void count(__u32 verdict) {
  __u64* n = bpf_map_lookup_elem(&hft_verdicts, &verdict);
  if (n)
    *n += 1; // per-CPU: no atomic needed
}

static __always_inline int pass(void) {
  count(HFT_PASSED);
  return XDP_PASS;
}

static __always_inline int to_socket(struct xdp_md* ctx) {
  count(HFT_REDIRECTED);
  // No socket on this queue (hftd gone or not bound yet): the kernel gets the packet.
  return bpf_redirect_map(&hft_xsks, ctx->rx_queue_index, XDP_PASS);
}

SEC("xdp")
int hft_md_xdp(struct xdp_md* ctx) {
  void* data = (void*)(long)ctx->data;
  void* data_end = (void*)(long)ctx->data_end;
  const __u32 zero = 0;
  const struct hft_feed_filter* filter = bpf_map_lookup_elem(&hft_feed, &zero);
  if (!filter || filter->dst_port == 0)
    return pass();

  struct ethhdr* eth = data;
  if ((void*)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
    return pass();
  struct iphdr* ip = (void*)(eth + 1);
  if ((void*)(ip + 1) > data_end || ip->protocol != IPPROTO_UDP)
    return pass();
  if (filter->dst_addr != 0 && ip->daddr != filter->dst_addr)
    return pass();
  // A later fragment has no UDP header to match on. With a feed address it is the feed's:
  // hftd counts and drops it rather than leave the kernel a reassembly that cannot finish.
  if (ip->frag_off & bpf_htons(0x1fff)) {
    if (filter->dst_addr == 0)
      return pass();
    count(HFT_FRAGMENTS);
    return to_socket(ctx);
  }
  const __u32 ihl = ip->ihl * 4U;
  if (ihl < sizeof(*ip))
    return pass(); // malformed: the kernel drops it and counts it as an IP header error
  struct udphdr* udp = (void*)ip + ihl;
  if ((void*)(udp + 1) > data_end || udp->dest != filter->dst_port)
    return pass();
  // Everything else about the packet (lengths, the More Fragments flag) hftd checks itself.
  return to_socket(ctx);
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
