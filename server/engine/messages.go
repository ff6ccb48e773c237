package engine

import (
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"

	"roomkit/server/protocol"
)

// pendingMessage is a message waiting for the room's next flush.
type pendingMessage struct {
	sender string // session ID: the sender is not sent its own message
	raw    json.RawMessage
}

// storedMessage is a message kept in the room's history.
type storedMessage struct {
	orderKey uint64
	raw      json.RawMessage
}

// SendMessage implements Engine. The message is stamped, kept in history
// (unless it is a command), and queued for the room's next flush, which
// delivers every message queued meanwhile as one receiveRoomMessage event.
func (m *Manager) SendMessage(p Peer, roomID string, msg protocol.Message) (protocol.Message, error) {
	if err := m.validateMessage(msg); err != nil {
		return protocol.Message{}, err
	}
	r, err := m.memberRoom(p, roomID)
	if err != nil {
		return protocol.Message{}, err
	}
	sender := p.Member()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.members[p.SessionID()] == nil {
		return protocol.Message{}, notInRoom(roomID)
	}
	r.orderKey++
	msg.OrderKey = r.orderKey
	msg.MessageID = strconv.FormatUint(m.messageSeq.Add(1), 10)
	msg.Timestamp = time.Now().UnixMilli()
	msg.SenderUserID, msg.SenderUserName = sender.UserID, sender.UserName
	msg.ConversationID, msg.ConversationType = roomID, protocol.ConversationTypeRoom
	raw, err := json.Marshal(msg)
	if err != nil {
		return protocol.Message{}, protocol.Errorf(protocol.CodeFailed, "cannot encode the message: %v", err)
	}
	if msg.Type != protocol.MessageTypeCommand && m.limits.HistorySize > 0 {
		if len(r.history) == m.limits.HistorySize {
			r.history = append(r.history[:0], r.history[1:]...)
		}
		r.history = append(r.history, storedMessage{orderKey: msg.OrderKey, raw: raw})
	}
	r.pending = append(r.pending, pendingMessage{sender: p.SessionID(), raw: raw})
	if !r.flushScheduled {
		r.flushScheduled = true
		// No added latency: the flush runs as soon as it can take the lock,
		// and whatever was sent meanwhile goes with it.
		go func() {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.flushLocked()
		}()
	}
	return msg, nil
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
	if size := len(msg.Message) + len(msg.ExtendedData); size > m.limits.MaxMessageBytes {
		return protocol.Errorf(protocol.CodeMessageTooLarge, "the message is %d bytes; at most %d are allowed", size, m.limits.MaxMessageBytes)
	}
	return nil
}

// flushLocked delivers the pending messages as one event: encoded once for
// every member who sent none of them, and once more for each sender, without
// their own. Caller holds r.mu. Membership changes flush first, so a message
// reaches exactly the members present when it was sent.
func (r *room) flushLocked() {
	r.flushScheduled = false
	if len(r.pending) == 0 {
		return
	}
	pending := r.pending
	r.pending = nil
	senders := map[string]bool{}
	all := make([]json.RawMessage, len(pending))
	for i, pm := range pending {
		senders[pm.sender] = true
		all[i] = pm.raw
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
				others = append(others, pm.raw)
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

// History implements Engine.
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
	if req.Reverse == nil || *req.Reverse {
		end := len(h)
		if req.NextOrderKey != 0 {
			end = searchOrder(h, req.NextOrderKey) // first at or after the key
		}
		start := max(0, end-req.Count)
		for _, s := range h[start:end] {
			out.MessageList = append(out.MessageList, s.raw)
		}
		if start > 0 {
			out.NextOrderKey = h[start].orderKey
		}
		return out, nil
	}
	start := searchOrder(h, req.NextOrderKey+1)
	end := min(len(h), start+req.Count)
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
