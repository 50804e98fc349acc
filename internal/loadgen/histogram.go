package loadgen

import (
	"math"
	"math/bits"
	"time"
)

// subBits sets the histogram's resolution: each power of two is split into
// 1<<subBits buckets, so a bucket is at most 1/128 of its values wide and the
// midpoint reported for it is within 1/256 (0.4%) of any value in it.
const subBits = 7

const (
	subCount = 1 << subBits
	// exactBelow: values below it (in nanoseconds) have a bucket each.
	exactBelow = 2 * subCount
	// numBuckets covers every uint64: the largest shift is 64-(subBits+1).
	numBuckets = (64-subBits-1)*subCount + exactBelow
)

// Histogram records durations with a bounded relative error (see Quantile)
// in constant memory, whatever the number of samples. The count, sum,
// minimum and maximum are exact. The zero value is empty and ready to use. A
// Histogram is not safe for concurrent use: give each worker its own and
// Merge them.
type Histogram struct {
	counts   []uint64 // allocated on the first Record
	n        uint64
	sum      float64 // nanoseconds
	min, max uint64  // nanoseconds; valid when n > 0
}

// bucketOf maps a value in nanoseconds to its bucket. Values below
// exactBelow map to themselves; above, the top subBits+1 significant bits
// choose the bucket within the value's power of two.
func bucketOf(v uint64) int {
	if v < exactBelow {
		return int(v)
	}
	shift := bits.Len64(v) - (subBits + 1)
	return shift*subCount + int(v>>shift)
}

// bucketRange returns the lowest value of bucket i and its width.
func bucketRange(i int) (low, width uint64) {
	if i < exactBelow {
		return uint64(i), 1
	}
	shift := i/subCount - 1
	m := uint64(i - shift*subCount)
	return m << shift, 1 << shift
}

// Record adds one sample. Negative durations count as zero.
func (h *Histogram) Record(d time.Duration) {
	v := uint64(max(d, 0))
	if h.counts == nil {
		h.counts = make([]uint64, numBuckets)
	}
	h.counts[bucketOf(v)]++
	if h.n == 0 || v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
	h.n++
	h.sum += float64(v)
}

// Merge adds every sample of o to h.
func (h *Histogram) Merge(o *Histogram) {
	if o == nil || o.n == 0 {
		return
	}
	if h.counts == nil {
		h.counts = make([]uint64, numBuckets)
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	if o.max > h.max {
		h.max = o.max
	}
	h.n += o.n
	h.sum += o.sum
}

// Count is the number of samples.
func (h *Histogram) Count() uint64 { return h.n }

// Min is the smallest sample (0 when empty).
func (h *Histogram) Min() time.Duration { return time.Duration(h.min) }

// Max is the largest sample (0 when empty).
func (h *Histogram) Max() time.Duration { return time.Duration(h.max) }

// Mean is the arithmetic mean of the samples (0 when empty).
func (h *Histogram) Mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return time.Duration(math.Round(h.sum / float64(h.n)))
}

// Quantile returns the q-quantile (0 < q <= 1) by nearest rank: the sample
// of rank ceil(q*Count) in ascending order, as the midpoint of its bucket
// clamped to [Min, Max]. It is exact below 256 ns and within 0.4% of the
// true sample above; Quantile(1) is Max exactly. An empty histogram, or q
// outside (0, 1], gives 0.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.n == 0 || !(q > 0 && q <= 1) {
		return 0
	}
	if q == 1 {
		return time.Duration(h.max)
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	rank = max(rank, 1)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			low, width := bucketRange(i)
			v := low + width/2
			return time.Duration(min(max(v, h.min), h.max))
		}
	}
	return time.Duration(h.max)
}
