/* The BPF ring buffer, read directly rather than through libbpf's ring_buffer: libbpf maps the data pages twice
 * (so that a record crossing the end reads contiguously), and the kernel inserts every mapped page up front, so an
 * 8 MiB ring costs 16 MiB of the shipper's RSS. Mapped once, a record that wraps is copied in two pieces instead.
 * Layout and protocol as in the kernel's bpf_ringbuf: a writable consumer-position page, then a read-only
 * producer-position page followed by the data; each record is an 8-byte header (length with BUSY and DISCARD
 * bits) and its bytes, 8-byte aligned. */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <linux/bpf.h>
#include "holdfast_event.h"
#include "ring.h"

int ring_open(struct hf_ring *r, int map_fd, size_t size)
{
	struct epoll_event ev = { .events = EPOLLIN };
	void *p;

	r->page = (size_t)sysconf(_SC_PAGESIZE);
	r->mask = size - 1;
	r->epfd = -1;
	p = mmap(NULL, r->page, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	r->consumer_pos = p;
	r->ro_len = r->page + size;
	p = mmap(NULL, r->ro_len, PROT_READ, MAP_SHARED, map_fd, (off_t)r->page);
	if (p == MAP_FAILED) {
		int err = -errno;

		munmap(r->consumer_pos, r->page);
		return err;
	}
	r->producer_pos = p;
	r->data = (unsigned char *)p + r->page;
	r->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (r->epfd < 0 || epoll_ctl(r->epfd, EPOLL_CTL_ADD, map_fd, &ev) < 0) {
		int err = -errno;

		if (r->epfd >= 0)
			close(r->epfd);
		munmap(r->consumer_pos, r->page);
		munmap(r->producer_pos, r->ro_len);
		return err;
	}
	return 0;
}

void ring_close(struct hf_ring *r)
{
	close(r->epfd);
	munmap(r->consumer_pos, r->page);
	munmap(r->producer_pos, r->ro_len);
}

/* One pass over what is committed: acquire-load the producer position and each header, stop at a record still
 * BUSY (records after it wait too), skip DISCARDed ones, release-store the consumer position. */
static void ring_consume(struct hf_ring *r, unsigned char *out, size_t cap, size_t *used, int *count)
{
	unsigned long cons = __atomic_load_n(r->consumer_pos, __ATOMIC_ACQUIRE);
	unsigned long prod = __atomic_load_n(r->producer_pos, __ATOMIC_ACQUIRE);

	while (cons < prod) {
		uint32_t *hdr = (uint32_t *)(r->data + (cons & r->mask));
		uint32_t hlen = __atomic_load_n(hdr, __ATOMIC_ACQUIRE);
		uint32_t len = hlen & ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);
		size_t at, first;

		if (hlen & BPF_RINGBUF_BUSY_BIT) /* reserved, not yet committed: records after it wait too */
			break;
		if (!(hlen & BPF_RINGBUF_DISCARD_BIT)) {
			if (*used + 4 + len > cap)
				break;
			memcpy(out + *used, &len, 4);
			at = (cons + BPF_RINGBUF_HDR_SZ) & r->mask;
			first = len < r->mask + 1 - at ? len : r->mask + 1 - at;
			memcpy(out + *used + 4, r->data + at, first);
			memcpy(out + *used + 4 + first, r->data, len - first);
			*used += 4 + len;
			*count += 1;
		}
		cons += (len + BPF_RINGBUF_HDR_SZ + 7) & ~7UL;
		__atomic_store_n(r->consumer_pos, cons, __ATOMIC_RELEASE);
		if (cons == prod)
			prod = __atomic_load_n(r->producer_pos, __ATOMIC_ACQUIRE);
	}
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

int ring_drain(struct hf_ring *r, unsigned char *out, size_t cap, int timeout_ms, size_t *used, int *count)
{
	long long now, deadline;

	*used = 0;
	*count = 0;
	ring_consume(r, out, cap, used, count);
	if (timeout_ms <= 0 || *count > 0)
		return 0;
	/* The probe wakes this reader only once HF_WAKEUP_BYTES are waiting (a wakeup per event costs an
	 * inter-processor interrupt, a costly exit in a VM), so also look every few milliseconds. */
	now = now_ms();
	deadline = now + timeout_ms;
	do {
		long long left = deadline - now;
		struct epoll_event ev;

		if (epoll_wait(r->epfd, &ev, 1, left < HF_POLL_SLICE_MS ? (int)left : HF_POLL_SLICE_MS) < 0 &&
		    errno != EINTR)
			return -errno;
		ring_consume(r, out, cap, used, count);
		now = now_ms();
	} while (*count == 0 && now < deadline);
	return 0;
}
