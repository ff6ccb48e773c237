package distributed

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"

	"github.com/redis/go-redis/v9"

	"roomkit/server/engine"
)

// A room's copy in Redis, written by what changed. The copy is two keys:
// a hash (stateKey) with one field for the room's own settings ("meta"),
// one for its counters ("n", which every join and message moves), one for
// the users removed from it ("r") and one for its extension's state ("x"),
// one per member ("m:" session), per user ("u:" user, with their member
// attributes) and per room attribute ("a:" key); and a list (historyKey)
// of the history, oldest first. The owner remembers what it last wrote of
// each room and writes only the fields that differ, deletes those gone,
// appends the messages newer than the last written and trims the list to
// the history kept: one message costs one list entry, one join a field or
// two, not the whole room. A write that fails leaves what Redis has
// unknown, so that room's next copy is written whole again.

func historyKey(key roomKey) string { return "roomkit:history:" + key.lease() }

// copyKeys are every key of a room's copy, for deleting it.
func copyKeys(key roomKey) []string { return []string{stateKey(key), historyKey(key)} }

// roomCopy is what the owner last wrote of one room's copy, while it held
// the room's lease of generation gen (a room held again is written whole).
type roomCopy struct {
	gen          uint64
	fields       map[string]string // hash field -> its JSON
	lastOrderKey uint64            // the newest message in the list
	seq          uint64            // the room's member counter then
}

// copyFields encodes st as the hash's fields.
func copyFields(st engine.RoomState) (map[string]string, error) {
	fields := make(map[string]string, 4+len(st.Members)+len(st.Users)+len(st.Attributes))
	// The settings apart from what changes with every join and message
	// (the counters, "n") and from what may be large and changes rarely
	// (the removed users, "r"; the extension's state, "x"): a message
	// rewrites a few bytes, not the room's settings.
	meta := st
	meta.Members, meta.Users, meta.Attributes, meta.History = nil, nil, nil, nil
	meta.Seq, meta.OrderKey, meta.Removed, meta.Extension = 0, 0, nil, nil
	put := func(field string, v any) error {
		b, err := json.Marshal(v)
		fields[field] = string(b)
		return err
	}
	if err := put("meta", meta); err != nil {
		return nil, err
	}
	if err := put("n", copyCounters{Seq: st.Seq, OrderKey: st.OrderKey}); err != nil {
		return nil, err
	}
	if len(st.Removed) > 0 {
		if err := put("r", st.Removed); err != nil {
			return nil, err
		}
	}
	if len(st.Extension) > 0 {
		fields["x"] = string(st.Extension)
	}
	for _, m := range st.Members {
		if err := put("m:"+m.SessionID, m); err != nil {
			return nil, err
		}
	}
	for _, u := range st.Users {
		if err := put("u:"+u.Member.UserID, u); err != nil {
			return nil, err
		}
	}
	for _, a := range st.Attributes {
		if err := put("a:"+a.Key, a); err != nil {
			return nil, err
		}
	}
	return fields, nil
}

// copyCounters are a room's counters, the copy's field "n".
type copyCounters struct {
	Seq      uint64 `json:"seq"`
	OrderKey uint64 `json:"orderKey"`
}

// queueCopy adds to p the writes that take Redis from prev (nil: unknown,
// so the copy is written whole) to st, and returns what Redis will hold
// once p has run.
func queueCopy(ctx context.Context, p redis.Pipeliner, key roomKey, gen uint64, st engine.RoomState, prev *roomCopy) (*roomCopy, error) {
	fields, err := copyFields(st)
	if err != nil {
		return nil, err
	}
	if prev != nil && (prev.gen != gen || st.OrderKey < prev.lastOrderKey || st.Seq < prev.seq) {
		// Written under an earlier lease (Redis's copy is unknown), or of
		// an earlier room of this ID (ended and made again between two
		// rounds: its counters began again).
		prev = nil
	}
	next := &roomCopy{gen: gen, fields: fields, seq: st.Seq}
	if n := len(st.History); n > 0 {
		next.lastOrderKey = st.History[n-1].OrderKey
	}
	if prev == nil {
		p.Del(ctx, copyKeys(key)...)
		prev = &roomCopy{fields: map[string]string{}}
	}
	var set []any
	for f, v := range fields {
		if prev.fields[f] != v {
			set = append(set, f, v)
		}
	}
	if len(set) > 0 {
		p.HSet(ctx, stateKey(key), set...)
	}
	var gone []string
	for f := range prev.fields {
		if _, ok := fields[f]; !ok {
			gone = append(gone, f)
		}
	}
	if len(gone) > 0 {
		p.HDel(ctx, stateKey(key), gone...)
	}
	var added []any
	for _, h := range st.History {
		if h.OrderKey > prev.lastOrderKey {
			b, err := json.Marshal(h)
			if err != nil {
				return nil, err
			}
			added = append(added, b)
		}
	}
	switch {
	case len(st.History) == 0 && prev.lastOrderKey > 0:
		p.Del(ctx, historyKey(key))
	case len(added) > 0:
		p.RPush(ctx, historyKey(key), added...)
		p.LTrim(ctx, historyKey(key), int64(-len(st.History)), -1)
	}
	return next, nil
}

// readCopy reads a room's copy back; ok is false when there is none. A
// copy written whole as one string (by an earlier version) is read too.
func readCopy(ctx context.Context, rdb *redis.Client, key roomKey) (st engine.RoomState, ok bool, err error) {
	// The hash and the list in one transaction: as one write left them.
	var hash *redis.MapStringStringCmd
	var list *redis.StringSliceCmd
	_, _ = rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		hash = p.HGetAll(ctx, stateKey(key))
		list = p.LRange(ctx, historyKey(key), 0, -1)
		return nil
	})
	fields, err := hash.Result()
	if err != nil && strings.HasPrefix(err.Error(), "WRONGTYPE") {
		raw, err := rdb.Get(ctx, stateKey(key)).Bytes()
		if err != nil {
			return st, false, err
		}
		return st, true, json.Unmarshal(raw, &st)
	}
	if err != nil || len(fields) == 0 {
		return st, false, err
	}
	meta, found := fields["meta"]
	if !found {
		return st, false, errors.New("the copy has no meta field")
	}
	if err := json.Unmarshal([]byte(meta), &st); err != nil {
		return st, false, err
	}
	for _, f := range slices.Sorted(maps.Keys(fields)) {
		v := []byte(fields[f])
		switch {
		case strings.HasPrefix(f, "m:"):
			var m engine.MemberState
			err = json.Unmarshal(v, &m)
			st.Members = append(st.Members, m)
		case strings.HasPrefix(f, "u:"):
			var u engine.UserState
			err = json.Unmarshal(v, &u)
			st.Users = append(st.Users, u)
		case strings.HasPrefix(f, "a:"):
			var a engine.AttributeState
			err = json.Unmarshal(v, &a)
			st.Attributes = append(st.Attributes, a)
		case f == "n": // (a copy written before the counters had a field has them in meta)
			var n copyCounters
			err = json.Unmarshal(v, &n)
			st.Seq, st.OrderKey = n.Seq, n.OrderKey
		case f == "r":
			err = json.Unmarshal(v, &st.Removed)
		case f == "x":
			st.Extension = json.RawMessage(v)
		}
		if err != nil {
			return st, false, err
		}
	}
	slices.SortFunc(st.Members, func(a, b engine.MemberState) int { return cmp.Compare(a.Seq, b.Seq) }) // join order
	history, err := list.Result()
	if err != nil {
		return st, false, err
	}
	for _, raw := range history {
		var h engine.HistoryEntry
		if err := json.Unmarshal([]byte(raw), &h); err != nil {
			return st, false, err
		}
		st.History = append(st.History, h)
	}
	return st, true, nil
}
