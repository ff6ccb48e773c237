package gateway

// eventRing keeps the most recent events sent to a session, numbered from 1
// in the order they were sent, up to max bytes. A resuming client says how
// many it handled; the ring gives back the rest.
type eventRing struct {
	frames [][]byte
	first  uint64 // number of frames[0]
	next   uint64 // number the next event gets, minus one: events so far
	bytes  int
	max    int
}

// add keeps frame as the next event, dropping the oldest past max bytes.
func (r *eventRing) add(frame []byte) {
	if r.first == 0 {
		r.first = 1
	}
	r.next++
	r.frames = append(r.frames, frame)
	r.bytes += len(frame)
	for r.bytes > r.max && len(r.frames) > 0 {
		r.bytes -= len(r.frames[0])
		r.frames[0] = nil
		r.frames = r.frames[1:]
		r.first++
	}
}

// since returns the events after the first received ones; ok is false when
// some of them are no longer kept or received is more than were sent.
func (r *eventRing) since(received uint64) (frames [][]byte, ok bool) {
	if received > r.next {
		return nil, false
	}
	if received == r.next {
		return nil, true
	}
	if received+1 < r.first {
		return nil, false
	}
	start := int(received + 1 - r.first)
	return append([][]byte(nil), r.frames[start:]...), true
}
