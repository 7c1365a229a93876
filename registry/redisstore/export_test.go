package redisstore

// SetDurability overrides the detected durability mode, to drive the WAITAOF
// path against servers that lack it.
func (s *Store) SetDurability(d Durability) {
	s.mu.Lock()
	s.dur = &d
	s.mu.Unlock()
}

// DurabilityDetected reports whether a mode is cached.
func (s *Store) DurabilityDetected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dur != nil
}

var VersionAtLeast = versionAtLeast
