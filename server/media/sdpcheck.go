package media

import (
	"strings"

	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"roomkit/server/protocol"
)

// offerSummary is what checkOffer learned of an offer.
type offerSummary struct {
	parsed      *sdp.SessionDescription
	published   int    // media sections the client sends in
	sections    int    // media sections in all
	fingerprint string // the DTLS fingerprint (session or first media level)
	ufrag       string // the ICE username fragment (of the first media section)
	mids        map[string]bool
	recvMids    map[string]bool // sections the client receives on only (recvonly)
}

// forwardable are the codecs the server forwards, by media kind
// (lower-case encoding names, as in a=rtpmap).
func forwardable(noH264 bool) map[string]map[string]bool {
	video := map[string]bool{"vp8": true}
	if !noH264 {
		video["h264"] = true
	}
	return map[string]map[string]bool{"audio": {"opus": true}, "video": video}
}

// checkOffer checks an SDP offer against lim before any of it reaches a
// connection, so that a bad offer changes nothing: its size, that it
// parses, that every media section it wants has a mid, ICE credentials
// and a codec the server forwards, and the number of its media sections
// and of those it publishes in, and the number of its candidates; that a
// section offering simulcast sends video in layers the server takes
// (checkSimulcast). A data channel section (m=application), which
// nothing uses, is refused.
func checkOffer(text string, lim Limits, noH264 bool) (offerSummary, error) {
	sum := offerSummary{mids: map[string]bool{}, recvMids: map[string]bool{}}
	if len(text) > lim.MaxOfferBytes {
		return sum, protocol.Errorf(protocol.CodeInvalidParameter, "the offer is %d bytes, over the limit of %d", len(text), lim.MaxOfferBytes)
	}
	if strings.TrimSpace(text) == "" {
		return sum, protocol.Errorf(protocol.CodeInvalidParameter, "the offer is empty")
	}
	d := &sdp.SessionDescription{}
	if err := d.UnmarshalString(text); err != nil {
		return sum, protocol.Errorf(protocol.CodeInvalidParameter, "the offer is not valid SDP: %v", err)
	}
	sum.parsed = d
	sessionDir := direction(d.Attributes, "sendrecv")
	sessionUfrag, _ := d.Attribute("ice-ufrag")
	sessionPwd, _ := d.Attribute("ice-pwd")
	sum.fingerprint, _ = d.Attribute("fingerprint")
	codecs := forwardable(noH264)
	if len(d.MediaDescriptions) > lim.MaxMediaSections {
		return sum, protocol.Errorf(protocol.CodeTrackLimit, "the offer has %d media sections, over the limit of %d", len(d.MediaDescriptions), lim.MaxMediaSections)
	}
	candidates := 0
	for i, m := range d.MediaDescriptions {
		kind := m.MediaName.Media
		sum.sections++
		mid, _ := m.Attribute("mid")
		if mid == "" {
			return sum, protocol.Errorf(protocol.CodeInvalidParameter, "media section %d of the offer has no mid", i)
		}
		sum.mids[mid] = true
		for _, a := range m.Attributes {
			switch a.Key {
			case "recvonly":
				sum.recvMids[mid] = true
			case "candidate":
				candidates++
			}
		}
		if candidates > lim.MaxCandidates {
			return sum, protocol.Errorf(protocol.CodeInvalidParameter, "too many candidates: the offer has more than %d", lim.MaxCandidates)
		}
		if sum.fingerprint == "" {
			sum.fingerprint, _ = m.Attribute("fingerprint")
		}
		ufrag, ok := m.Attribute("ice-ufrag")
		if !ok {
			ufrag = sessionUfrag
		}
		pwd, ok := m.Attribute("ice-pwd")
		if !ok {
			pwd = sessionPwd
		}
		if ufrag == "" || pwd == "" {
			return sum, protocol.Errorf(protocol.CodeInvalidParameter, "media section %q of the offer has no ICE credentials", mid)
		}
		if sum.ufrag == "" {
			sum.ufrag = ufrag
		}
		if kind == "application" {
			if m.MediaName.Port.Value == 0 {
				continue // rejected: no data channels
			}
			return sum, protocol.Errorf(protocol.CodeInvalidParameter, "media section %q is for data channels (m=application): the media server takes audio and video only", mid)
		}
		want, ok := codecs[kind]
		if !ok {
			return sum, protocol.Errorf(protocol.CodeInvalidParameter, "media section %q is of kind %q, not audio or video", mid, kind)
		}
		if m.MediaName.Port.Value == 0 {
			continue // rejected or stopped: nothing is sent or received
		}
		dir := direction(m.Attributes, sessionDir)
		if dir == "inactive" {
			continue
		}
		if !offersCodec(m, want) {
			return sum, protocol.Errorf(protocol.CodeNoCodec, "media section %q (%s) offers no codec the server forwards (%s)", mid, kind, names(want))
		}
		if err := checkSimulcast(m, mid, kind, dir); err != nil {
			return sum, err
		}
		if dir == "sendrecv" || dir == "sendonly" {
			sum.published++
		}
	}
	if sum.fingerprint == "" {
		return sum, protocol.Errorf(protocol.CodeInvalidParameter, "the offer has no DTLS fingerprint")
	}
	if sum.published > lim.MaxPublishedTracks {
		return sum, protocol.Errorf(protocol.CodeTrackLimit, "the offer publishes %d tracks, over the limit of %d", sum.published, lim.MaxPublishedTracks)
	}
	return sum, nil
}

// checkSimulcast checks a section's a=rid and a=simulcast lines (RFC
// 8851, 8853): simulcast is taken for video the client sends, in up to
// three layers named q, h and f (a quarter, half and all of the
// resolution), each with its a=rid line, and without alternatives or
// paused layers. A section without them is one stream.
func checkSimulcast(m *sdp.MediaDescription, mid, kind, dir string) error {
	rids := map[string]bool{}
	simulcast := ""
	for _, a := range m.Attributes {
		switch a.Key {
		case "rid":
			id, rest, _ := strings.Cut(a.Value, " ")
			d, _, _ := strings.Cut(rest, " ")
			if d != "send" {
				return protocol.Errorf(protocol.CodeInvalidParameter, "media section %q: a=rid:%s is %q; the media server takes simulcast the client sends (a=rid:<id> send)", mid, id, d)
			}
			if layerIndex(id) < 0 {
				return protocol.Errorf(protocol.CodeInvalidParameter, "media section %q: simulcast layer %q; the layers are named q, h and f (a quarter, half and all of the resolution)", mid, id)
			}
			if rids[id] {
				return protocol.Errorf(protocol.CodeInvalidParameter, "media section %q: a=rid:%s is there twice", mid, id)
			}
			rids[id] = true
		case "simulcast":
			if simulcast != "" {
				return protocol.Errorf(protocol.CodeInvalidParameter, "media section %q has more than one a=simulcast", mid)
			}
			simulcast = a.Value
		}
	}
	if len(rids) == 0 && simulcast == "" {
		return nil
	}
	if kind != "video" {
		return protocol.Errorf(protocol.CodeInvalidParameter, "media section %q (%s) offers simulcast: only video is sent in layers", mid, kind)
	}
	if dir != "sendonly" && dir != "sendrecv" {
		return protocol.Errorf(protocol.CodeInvalidParameter, "media section %q offers simulcast but does not send (%s): the server sends one layer to each subscriber", mid, dir)
	}
	d, list, _ := strings.Cut(strings.TrimSpace(simulcast), " ")
	if d != "send" || strings.TrimSpace(list) == "" {
		return protocol.Errorf(protocol.CodeInvalidParameter, "media section %q: a=simulcast:%s; the media server takes a=simulcast:send <rids>", mid, simulcast)
	}
	if strings.ContainsAny(list, ",~ ") {
		return protocol.Errorf(protocol.CodeInvalidParameter, "media section %q: a=simulcast:%s has alternatives, paused layers or a receive list; list the layers sent, as send q;h;f", mid, simulcast)
	}
	layers := strings.Split(list, ";")
	if len(layers) > maxLayers {
		return protocol.Errorf(protocol.CodeInvalidParameter, "media section %q sends %d simulcast layers, over the limit of %d", mid, len(layers), maxLayers)
	}
	seen := map[string]bool{}
	for _, id := range layers {
		if !rids[id] {
			return protocol.Errorf(protocol.CodeInvalidParameter, "media section %q: simulcast layer %q has no a=rid:%s send line", mid, id, id)
		}
		if seen[id] {
			return protocol.Errorf(protocol.CodeInvalidParameter, "media section %q: simulcast layer %q is listed twice", mid, id)
		}
		seen[id] = true
	}
	if len(seen) != len(rids) {
		return protocol.Errorf(protocol.CodeInvalidParameter, "media section %q: an a=rid line names a layer a=simulcast does not list", mid)
	}
	return nil
}

// direction is the direction attribute among attrs, or def.
func direction(attrs []sdp.Attribute, def string) string {
	for _, a := range attrs {
		switch a.Key {
		case "sendrecv", "sendonly", "recvonly", "inactive":
			return a.Key
		}
	}
	return def
}

// offersCodec reports whether a media section's rtpmap names a codec in
// want (the payload type must be one of the section's formats).
func offersCodec(m *sdp.MediaDescription, want map[string]bool) bool {
	formats := map[string]bool{}
	for _, f := range m.MediaName.Formats {
		formats[f] = true
	}
	for _, a := range m.Attributes {
		if a.Key != "rtpmap" {
			continue
		}
		pt, rest, ok := strings.Cut(a.Value, " ")
		if !ok || !formats[pt] {
			continue
		}
		name, _, _ := strings.Cut(rest, "/")
		if want[strings.ToLower(strings.TrimSpace(name))] {
			return true
		}
	}
	return false
}

func names(set map[string]bool) string {
	var out []string
	for _, n := range []string{"opus", "vp8", "h264"} {
		if set[n] {
			out = append(out, n)
		}
	}
	return strings.Join(out, ", ")
}

// sectionByMid is the media section of d whose mid is mid, nil for none.
func sectionByMid(d *sdp.SessionDescription, mid string) *sdp.MediaDescription {
	if d == nil {
		return nil
	}
	for _, m := range d.MediaDescriptions {
		if v, _ := m.Attribute("mid"); v == mid {
			return m
		}
	}
	return nil
}

// sectionCodecs are the codecs a media section offers (its formats'
// rtpmap, with their fmtp), named as pion names them (kind/encoding).
func sectionCodecs(m *sdp.MediaDescription) []webrtc.RTPCodecParameters {
	formats := map[string]bool{}
	for _, f := range m.MediaName.Formats {
		formats[f] = true
	}
	fmtps := map[string]string{}
	for _, a := range m.Attributes {
		if a.Key == "fmtp" {
			if pt, rest, ok := strings.Cut(a.Value, " "); ok {
				fmtps[pt] = strings.TrimSpace(rest)
			}
		}
	}
	var out []webrtc.RTPCodecParameters
	for _, a := range m.Attributes {
		if a.Key != "rtpmap" {
			continue
		}
		pt, rest, ok := strings.Cut(a.Value, " ")
		if !ok || !formats[pt] {
			continue
		}
		name, _, _ := strings.Cut(rest, "/")
		out = append(out, webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: m.MediaName.Media + "/" + strings.TrimSpace(name), SDPFmtpLine: fmtps[pt],
		}})
	}
	return out
}
