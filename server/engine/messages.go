package engine

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"

	"roomkit/server/protocol"
)

// pendingEvent is a room message or a member's attribute change waiting
// for the room's next flush. Both go out in the order they were made.
type pendingEvent struct {
	sender  string                          // session ID: the sender is not sent its own change
	message json.RawMessage                 // a room message, or
	attrs   *protocol.MemberAttributesEvent // one member's attributes as they now are
}

// storedMessage is a message kept in the room's history.
type storedMessage struct {
	orderKey uint64
	raw      json.RawMessage
}

// SendMessage runs sendRoomMessage (ops.go). The message is stamped, kept in history
// (unless it is a command), and queued for the room's next flush, which
// delivers every message queued meanwhile as one receiveRoomMessage event.
func (m *Manager) SendMessage(p Peer, roomID string, msg protocol.Message) (protocol.Message, error) {
	who := p.Who()
	if err := m.validateMessage(msg); err != nil {
		return protocol.Message{}, err
	}
	r, err := m.memberRoom(p, roomID)
	if err != nil {
		return protocol.Message{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	me := r.members[who.Session]
	if me == nil {
		return protocol.Message{}, notInRoom(roomID)
	}
	sender := me.user.member // the name the room knows, renames included
	r.orderKey++
	msg.OrderKey = r.orderKey
	msg.MessageID = m.messageIDs + strconv.FormatUint(m.messageSeq.Add(1), 10)
	msg.Timestamp = r.clock.Now().UnixMilli()
	msg.SenderUserID, msg.SenderUserName = sender.UserID, sender.UserName
	msg.ConversationID, msg.ConversationType = roomID, protocol.ConversationTypeRoom
	raw, err := protocol.Marshal(msg)
	if err != nil {
		return protocol.Message{}, protocol.Errorf(protocol.CodeFailed, "cannot encode the message: %v", err)
	}
	if msg.Type != protocol.MessageTypeCommand && m.limits.HistorySize > 0 {
		if err := m.keepLocked(r, storedMessage{orderKey: msg.OrderKey, raw: raw}); err != nil {
			r.orderKey--
			return protocol.Message{}, err
		}
	}
	r.pending = append(r.pending, pendingEvent{sender: who.Session, message: raw})
	// No added latency: the flush runs as soon as it can take the lock, and
	// whatever was sent meanwhile goes with it.
	r.scheduleFlushLocked(0)
	return msg, nil
}

// keepLocked adds s to r's history, dropping the oldest messages past the
// room's count and byte limits. It is refused, changing nothing, when the
// app or the server holds all the bytes it may. Caller holds r.mu.
func (m *Manager) keepLocked(r *room, s storedMessage) error {
	r.dirty = true
	drop, freed := 0, 0
	for drop < len(r.history) && (len(r.history)-drop >= m.limits.HistorySize || r.historyBytes-freed+len(s.raw) > m.limits.MaxHistoryBytes) {
		freed += len(r.history[drop].raw)
		drop++
	}
	if err := r.usage.charge(int64(len(s.raw)-freed), "the message cannot be kept"); err != nil {
		return err
	}
	clear(r.history[:drop])
	r.history = append(r.history[drop:], s)
	r.historyBytes += len(s.raw) - freed
	return nil
}

// scheduleFlushLocked makes sure a flush runs within delay. A message asks
// for one now (and takes waiting attribute changes with it); attribute
// changes wait a moment, so a burst of them goes out as one. Caller holds
// r.mu.
func (r *room) scheduleFlushLocked(delay time.Duration) {
	switch {
	case !r.flushScheduled && delay > 0:
		r.flushTimer = r.clock.AfterFunc(delay, r.flush)
	case !r.flushScheduled || (delay == 0 && r.flushTimer != nil):
		if r.flushTimer != nil {
			r.flushTimer.Stop() // if it already fired, its flush finds nothing
			r.flushTimer = nil
		}
		go r.flush()
	}
	r.flushScheduled = true
}

func (r *room) flush() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.flushLocked()
}

func (m *Manager) validateMessage(msg protocol.Message) error {
	switch msg.Type {
	case protocol.MessageTypeText:
		var s string
		if json.Unmarshal(msg.Message, &s) != nil {
			return protocol.Errorf(protocol.CodeInvalidParameter, "a text message (type 1) needs message to be a string")
		}
		if s == "" {
			return protocol.Errorf(protocol.CodeInvalidParameter, "the text message is empty")
		}
	case protocol.MessageTypeCommand, protocol.MessageTypeCustom:
		if len(msg.Message) == 0 || !json.Valid(msg.Message) {
			return protocol.Errorf(protocol.CodeInvalidParameter, "message needs a JSON value")
		}
	default:
		return protocol.Errorf(protocol.CodeInvalidParameter, "message type %d is not supported; use 1 (text), 2 (command) or 200 (custom)", msg.Type)
	}
	if !utf8.Valid(msg.Message) || !utf8.ValidString(msg.ExtendedData) {
		return protocol.Errorf(protocol.CodeInvalidParameter, "the message is not valid UTF-8")
	}
	if size := encodedMessageSize(msg); size > m.limits.MaxMessageBytes {
		return protocol.Errorf(protocol.CodeMessageTooLarge, "the message is %d bytes as JSON; at most %d are allowed", size, m.limits.MaxMessageBytes)
	}
	return nil
}

// encodedMessageSize is the size of message plus extendedData as they are
// stored and sent: compact JSON, strings escaped as the wire escapes them.
func encodedMessageSize(msg protocol.Message) int {
	var compact bytes.Buffer
	if json.Compact(&compact, msg.Message) != nil {
		return len(msg.Message)
	}
	size := compact.Len()
	if msg.ExtendedData != "" {
		ext, _ := protocol.Marshal(msg.ExtendedData)
		size += len(ext) - 2
	}
	return size
}

// flushLocked delivers what is pending, in order: each run of messages as
// one receiveRoomMessage event (encoded once for every member who sent
// none of them, and once more for each sender, without their own), each
// attribute change as one roomMemberAttributesUpdated. Caller holds r.mu.
// Membership changes flush first, so a message reaches exactly the members
// present when it was sent.
func (r *room) flushLocked() {
	if len(r.pending) > 0 || len(r.joins) > 0 {
		r.dirty = true
	}
	r.flushScheduled = false
	if r.flushTimer != nil {
		r.flushTimer.Stop()
		r.flushTimer = nil
	}
	if len(r.joins) > 0 {
		r.flushJoinsLocked(r.clock.Now())
	}
	pending := r.pending
	r.pending = nil
	for len(pending) > 0 {
		if ev := pending[0].attrs; ev != nil {
			r.deliver(protocol.EventRoomMemberAttributesUpdated, ev, pending[0].sender)
			pending = pending[1:]
			continue
		}
		n := 1
		for n < len(pending) && pending[n].attrs == nil {
			n++
		}
		r.deliverMessages(pending[:n])
		pending = pending[n:]
	}
}

// deliverMessages sends a run of pending messages as one event. Caller
// holds r.mu.
func (r *room) deliverMessages(pending []pendingEvent) {
	senders := map[string]bool{}
	all := make([]json.RawMessage, len(pending))
	for i, pm := range pending {
		senders[pm.sender] = true
		all[i] = pm.message
	}
	frame, err := protocol.EncodeEvent(protocol.EventReceiveRoomMessage, protocol.MessagesEvent{RoomID: r.id, MessageList: all})
	if err != nil {
		return
	}
	for id, mem := range r.members {
		if !senders[id] {
			mem.peer.Deliver(frame)
		}
	}
	for id := range senders {
		mem := r.members[id]
		if mem == nil {
			continue
		}
		var others []json.RawMessage
		for _, pm := range pending {
			if pm.sender != id {
				others = append(others, pm.message)
			}
		}
		if len(others) == 0 {
			continue
		}
		if f, err := protocol.EncodeEvent(protocol.EventReceiveRoomMessage, protocol.MessagesEvent{RoomID: r.id, MessageList: others}); err == nil {
			mem.peer.Deliver(f)
		}
	}
}

// History returns a page of roomID's kept messages.
func (m *Manager) History(p Peer, req protocol.HistoryRequest) (protocol.HistoryReply, error) {
	if req.Count < 1 || req.Count > m.limits.MaxMemberListPageSize {
		return protocol.HistoryReply{}, protocol.Errorf(protocol.CodeInvalidParameter, "count is %d; use 1 to %d", req.Count, m.limits.MaxMemberListPageSize)
	}
	r, err := m.memberRoom(p, req.RoomID)
	if err != nil {
		return protocol.HistoryReply{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	h := r.history
	out := protocol.HistoryReply{RoomID: req.RoomID, MessageList: []json.RawMessage{}}
	budget := m.limits.MaxReplyBytes
	if req.Reverse == nil || *req.Reverse {
		// From the newest back: the page is h[start:end], as many as count
		// and the reply budget allow (at least one, which always fits).
		end := len(h)
		if req.NextOrderKey != 0 {
			end = searchOrder(h, req.NextOrderKey) // first at or after the key
		}
		start, size := end, 0
		for start > 0 && end-start < req.Count && (start == end || size+len(h[start-1].raw) <= budget) {
			start--
			size += len(h[start].raw) + 1
		}
		for _, s := range h[start:end] {
			out.MessageList = append(out.MessageList, s.raw)
		}
		if start > 0 {
			out.NextOrderKey = h[start].orderKey
		}
		return out, nil
	}
	start := searchOrder(h, req.NextOrderKey+1)
	end, size := start, 0
	for end < len(h) && end-start < req.Count && (end == start || size+len(h[end].raw) <= budget) {
		size += len(h[end].raw) + 1
		end++
	}
	for _, s := range h[start:end] {
		out.MessageList = append(out.MessageList, s.raw)
	}
	if end < len(h) {
		out.NextOrderKey = h[end-1].orderKey
	}
	return out, nil
}

// searchOrder returns the index of the first stored message with orderKey
// at least key.
func searchOrder(h []storedMessage, key uint64) int {
	lo, hi := 0, len(h)
	for lo < hi {
		mid := (lo + hi) / 2
		if h[mid].orderKey < key {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

func notInRoom(roomID string) error {
	return protocol.Errorf(protocol.CodeNotInRoom, "you are not in room %q; join it first", roomID)
}
