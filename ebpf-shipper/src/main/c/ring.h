/* The consumer side of the probe's BPF ring buffer (BPF_MAP_TYPE_RINGBUF), read without libbpf's ring_buffer. */
#ifndef HF_RING_H
#define HF_RING_H

#include <stddef.h>

struct hf_ring {
	int epfd;
	unsigned long *consumer_pos; /* page 0, read-write */
	unsigned long *producer_pos; /* page 1, read-only, followed by the data */
	unsigned char *data;
	size_t mask; /* data size - 1 (a power of two) */
	size_t page, ro_len;
};

/* Maps the ring of map_fd (size: its max_entries) and sets up the wait. Returns 0 or -errno. */
int ring_open(struct hf_ring *r, int map_fd, size_t size);

void ring_close(struct hf_ring *r);

/* Copies whole records into out[0..cap) as [u32 len][len bytes]... and releases them to the producer; *used and
 * *count say how many bytes and records. A record that does not fit stays in the ring for the next call.
 * timeout_ms > 0 waits for the first record when none is ready; 0 never blocks. Returns 0 or -errno (the wait
 * failed). */
int ring_drain(struct hf_ring *r, unsigned char *out, size_t cap, int timeout_ms, size_t *used, int *count);

#endif
