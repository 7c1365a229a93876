package registry

import (
	"container/list"
	"slices"
	"sync"
)

// Default bounds of a Log's state cache.
const (
	DefaultStateCacheEntries = 1024
	DefaultStateCacheBytes   = 256 << 20
)

// chain is a subject's replayed chain: its state, the hashes of its ops by seq
// (hashes[seq-1]) and the log index of its latest op. A chain is immutable
// once built, except that the cache may append to hashes beyond its length
// (see stateCache.advance), which no holder of the chain ever reads.
type chain struct {
	st     SubjectState
	hashes []string
	last   uint64
}

func (c *chain) head() Head { return Head{Seq: c.st.Seq, Hash: c.st.Hash} }

func (c *chain) cost() int64 {
	n := int64(256 + len(c.st.Doc) + 80*len(c.hashes))
	if c.st.StatusList != nil {
		n += int64(len(c.st.StatusList.Bits))
	}
	return n
}

// stateCache is a bounded LRU of subjects' chains. Safe for concurrent use.
type stateCache struct {
	maxEntries int
	maxBytes   int64

	mu    sync.Mutex
	bytes int64
	lru   list.List // of *cacheItem, most recently used first
	items map[string]*list.Element
}

type cacheItem struct {
	subject string
	c       *chain
	cost    int64
}

func newStateCache(entries int, bytes int64) *stateCache {
	if entries <= 0 {
		return nil
	}
	return &stateCache{maxEntries: entries, maxBytes: bytes, items: map[string]*list.Element{}}
}

// get returns the cached chain of subject, or nil.
func (sc *stateCache) get(subject string) *chain {
	if sc == nil {
		return nil
	}
	sc.mu.Lock()
	defer sc.mu.Unlock()
	e, ok := sc.items[subject]
	if !ok {
		return nil
	}
	sc.lru.MoveToFront(e)
	return e.Value.(*cacheItem).c
}

// put caches c for subject unless a longer chain is cached.
func (sc *stateCache) put(subject string, c *chain) {
	if sc == nil {
		return
	}
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if e, ok := sc.items[subject]; ok && e.Value.(*cacheItem).c.st.Seq > c.st.Seq {
		return
	}
	sc.set(subject, c)
}

// replace caches c for subject in place of old (the chain the caller found
// not to fit the store; nil if none), or as put does when another chain was
// cached meanwhile.
func (sc *stateCache) replace(subject string, old, c *chain) {
	if sc == nil {
		return
	}
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if e, ok := sc.items[subject]; ok && e.Value.(*cacheItem).c != old && e.Value.(*cacheItem).c.st.Seq > c.st.Seq {
		return
	}
	sc.set(subject, c)
}

// advance records that the op giving st was appended at index on top of from
// (a chain of subject the caller validated it against).
func (sc *stateCache) advance(subject string, from *chain, st SubjectState, index uint64) {
	if sc == nil {
		return
	}
	sc.mu.Lock()
	defer sc.mu.Unlock()
	var hashes []string
	if e, ok := sc.items[subject]; ok && e.Value.(*cacheItem).c == from {
		// from is the cached tip and nothing was built on it (that would have
		// replaced it): extend its hashes in place, past every holder's length.
		hashes = append(from.hashes, st.Hash)
	} else {
		if ok && e.Value.(*cacheItem).c.st.Seq >= st.Seq {
			return
		}
		hashes = append(slices.Clip(from.hashes), st.Hash)
	}
	sc.set(subject, &chain{st: st, hashes: hashes, last: index})
}

// drop forgets subject.
func (sc *stateCache) drop(subject string) {
	if sc == nil {
		return
	}
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if e, ok := sc.items[subject]; ok {
		sc.remove(e)
	}
}

func (sc *stateCache) set(subject string, c *chain) {
	if e, ok := sc.items[subject]; ok {
		sc.remove(e)
	}
	it := &cacheItem{subject: subject, c: c, cost: c.cost()}
	if it.cost > sc.maxBytes {
		return
	}
	sc.items[subject] = sc.lru.PushFront(it)
	sc.bytes += it.cost
	for sc.lru.Len() > sc.maxEntries || sc.bytes > sc.maxBytes {
		sc.remove(sc.lru.Back())
	}
}

func (sc *stateCache) remove(e *list.Element) {
	it := sc.lru.Remove(e).(*cacheItem)
	delete(sc.items, it.subject)
	sc.bytes -= it.cost
}

// len is the number of cached subjects (tests).
func (sc *stateCache) len() int {
	if sc == nil {
		return 0
	}
	sc.mu.Lock()
	defer sc.mu.Unlock()
	return sc.lru.Len()
}
