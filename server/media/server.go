package media

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/logging"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// Server is one node's media server: the pion API every room's
// connections are made with, and the sockets they share (one UDP port,
// and one TCP port when ICE-TCP is on). Make it with NewServer, make a
// Room per call room with NewRoom, and Close it last.
type Server struct {
	cfg    Config
	limits Limits
	api    *webrtc.API
	log    logging.LeveledLogger
	lf     logging.LoggerFactory

	udpMux *ice.MultiUDPMuxDefault
	tcpMux ice.TCPMux
	tcpLn  net.Listener

	mu     sync.Mutex
	rooms  map[*Room]struct{}
	closed bool
}

// NewServer opens the media sockets of cfg and makes the pion API: a
// SettingEngine on the UDP mux (and the TCP mux), mDNS off, the
// configured network types, loopback candidates and address rewrite; a
// MediaEngine with Opus, VP8 and H.264, and the audio-level, MID and
// transport-cc header extensions; and the NACK, RTCP report and TWCC
// interceptors. It fails if a socket cannot be opened.
func NewServer(cfg Config) (*Server, error) {
	s := &Server{cfg: cfg, limits: cfg.Limits.withDefaults(), rooms: map[*Room]struct{}{}}
	s.lf = cfg.LoggerFactory
	if s.lf == nil {
		s.lf = logging.NewDefaultLoggerFactory()
	}
	s.log = s.lf.NewLogger("media")

	me, reg, err := s.mediaEngine()
	if err != nil {
		return nil, err
	}
	se, err := s.settingEngine()
	if err != nil {
		return nil, err
	}
	s.api = webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(reg), webrtc.WithSettingEngine(se))
	return s, nil
}

// settingEngine opens the muxes and configures the network side.
func (s *Server) settingEngine() (webrtc.SettingEngine, error) {
	cfg := &s.cfg
	se := webrtc.SettingEngine{LoggerFactory: s.lf}
	if cfg.Net != nil {
		se.SetNet(cfg.Net)
	}
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetIncludeLoopbackCandidate(cfg.Loopback)
	se.DisableActiveTCP(true)
	if cfg.IPFilter != nil {
		se.SetIPFilter(cfg.IPFilter)
	}
	networks := cfg.networks()
	se.SetNetworkTypes(networks)
	if cfg.ICEDisconnectedTimeout > 0 || cfg.ICEFailedTimeout > 0 || cfg.ICEKeepaliveInterval > 0 {
		or := func(v, d time.Duration) time.Duration {
			if v > 0 {
				return v
			}
			return d
		}
		se.SetICETimeouts(or(cfg.ICEDisconnectedTimeout, 5*time.Second), or(cfg.ICEFailedTimeout, 25*time.Second), or(cfg.ICEKeepaliveInterval, 2*time.Second))
	}

	opts := []ice.UDPMuxFromPortOption{ice.UDPMuxFromPortWithLogger(s.lf.NewLogger("udpmux"))}
	var udp []ice.NetworkType
	for _, n := range networks {
		switch n {
		case webrtc.NetworkTypeUDP4:
			udp = append(udp, ice.NetworkTypeUDP4)
		case webrtc.NetworkTypeUDP6:
			udp = append(udp, ice.NetworkTypeUDP6)
		}
	}
	if len(udp) == 0 {
		return se, errors.New("media: no UDP network type configured")
	}
	opts = append(opts, ice.UDPMuxFromPortWithNetworks(udp...))
	if cfg.Loopback {
		opts = append(opts, ice.UDPMuxFromPortWithLoopback())
	}
	if cfg.IPFilter != nil {
		opts = append(opts, ice.UDPMuxFromPortWithIPFilter(cfg.IPFilter))
	}
	if cfg.Net != nil {
		opts = append(opts, ice.UDPMuxFromPortWithNet(cfg.Net))
	}
	mux, err := ice.NewMultiUDPMuxFromPort(cfg.UDPPort, opts...)
	if err != nil {
		return se, fmt.Errorf("media: UDP port %d: %w", cfg.UDPPort, err)
	}
	if cfg.WriteBatch > 1 && cfg.Net == nil {
		interval := cfg.WriteBatchInterval
		if interval <= 0 {
			interval = DefaultWriteBatchInterval
		}
		if mux, err = batchedUDPMux(mux, cfg.UDPPort, cfg.WriteBatch, interval, s.lf.NewLogger("udpmux")); err != nil {
			return se, fmt.Errorf("media: UDP port %d: %w", cfg.UDPPort, err)
		}
	}
	s.udpMux = mux
	se.SetICEUDPMux(mux)

	if cfg.TCP {
		var ln net.Listener
		if cfg.Net != nil {
			ln, err = cfg.Net.ListenTCP("tcp", &net.TCPAddr{Port: cfg.TCPPort})
		} else {
			ln, err = net.ListenTCP("tcp", &net.TCPAddr{Port: cfg.TCPPort})
		}
		if err != nil {
			_ = mux.Close()
			return se, fmt.Errorf("media: TCP port %d: %w", cfg.TCPPort, err)
		}
		s.tcpLn = ln
		s.tcpMux = webrtc.NewICETCPMux(s.lf.NewLogger("tcpmux"), ln, 8)
		se.SetICETCPMux(s.tcpMux)
	}

	if len(cfg.PublicIPs) > 0 {
		if err := se.SetICEAddressRewriteRules(webrtc.ICEAddressRewriteRule{
			External:        cfg.PublicIPs,
			AsCandidateType: webrtc.ICECandidateTypeHost,
			Mode:            webrtc.ICEAddressRewriteReplace,
		}); err != nil {
			s.closeSockets()
			return se, fmt.Errorf("media: public IPs: %w", err)
		}
	}
	return se, nil
}

// The payload types the server offers its codecs at (an answer takes the
// offer's own).
const (
	ptVP8      = 96
	ptH264     = 102
	ptH264Base = 108
	ptOpus     = 111
)

// mediaEngine registers the codecs, header extensions and interceptors.
func (s *Server) mediaEngine() (*webrtc.MediaEngine, *interceptor.Registry, error) {
	me := &webrtc.MediaEngine{}
	video := []webrtc.RTCPFeedback{{Type: "ccm", Parameter: "fir"}}
	codec := func(mime string, rate uint32, channels uint16, fmtp string, fb []webrtc.RTCPFeedback, pt webrtc.PayloadType) webrtc.RTPCodecParameters {
		return webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: mime, ClockRate: rate, Channels: channels, SDPFmtpLine: fmtp, RTCPFeedback: fb,
		}, PayloadType: pt}
	}
	type codecReg struct {
		c    webrtc.RTPCodecParameters
		kind webrtc.RTPCodecType
	}
	codecs := []codecReg{
		{codec(webrtc.MimeTypeOpus, 48000, 2, "minptime=10;useinbandfec=1", nil, ptOpus), webrtc.RTPCodecTypeAudio},
		{codec(webrtc.MimeTypeVP8, 90000, 0, "", video, ptVP8), webrtc.RTPCodecTypeVideo},
	}
	if !s.cfg.NoH264 {
		codecs = append(codecs,
			codecReg{codec(webrtc.MimeTypeH264, 90000, 0, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f", video, ptH264), webrtc.RTPCodecTypeVideo},
			codecReg{codec(webrtc.MimeTypeH264, 90000, 0, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f", video, ptH264Base), webrtc.RTPCodecTypeVideo},
		)
	}
	for _, c := range codecs {
		if err := me.RegisterCodec(c.c, c.kind); err != nil {
			return nil, nil, err
		}
	}
	exts := []struct {
		uri  string
		kind webrtc.RTPCodecType
	}{
		{sdp.AudioLevelURI, webrtc.RTPCodecTypeAudio},
		{sdp.SDESMidURI, webrtc.RTPCodecTypeAudio},
		{sdp.SDESMidURI, webrtc.RTPCodecTypeVideo},
		{sdp.SDESRTPStreamIDURI, webrtc.RTPCodecTypeVideo}, // simulcast: which layer an SSRC is
	}
	for _, e := range exts {
		if err := me.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: e.uri}, e.kind); err != nil {
			return nil, nil, err
		}
	}
	reg := &interceptor.Registry{}
	if err := webrtc.ConfigureNack(me, reg); err != nil {
		return nil, nil, err
	}
	if err := webrtc.ConfigureRTCPReports(reg); err != nil {
		return nil, nil, err
	}
	if err := webrtc.ConfigureTWCCSender(me, reg); err != nil {
		return nil, nil, err
	}
	return me, reg, nil
}

// UDPAddrs are the local addresses the UDP mux listens on (one socket
// per address; with a fixed UDPPort all on that port).
func (s *Server) UDPAddrs() []net.Addr { return s.udpMux.GetListenAddresses() }

// TCPAddr is the ICE-TCP listener's address, nil when ICE-TCP is off.
func (s *Server) TCPAddr() net.Addr {
	if s.tcpLn == nil {
		return nil
	}
	return s.tcpLn.Addr()
}

// NewRoom makes the media side of one call room; signal is how the room
// reaches its members' clients and must not block. The room lives until
// its Closed is called (or the server's Close). On a closed server the
// room is made closed.
func (s *Server) NewRoom(app, id string, signal Signal) *Room {
	if signal == nil {
		signal = func(string, string, any) {}
	}
	r := newRoom(s, app, id, signal)
	s.mu.Lock()
	closed := s.closed
	if !closed {
		s.rooms[r] = struct{}{}
	}
	s.mu.Unlock()
	if closed {
		r.Closed()
	}
	return r
}

// roomDone drops r from the server's rooms.
func (s *Server) roomDone(r *Room) {
	s.mu.Lock()
	delete(s.rooms, r)
	s.mu.Unlock()
}

// Close closes every room (waiting up to 5 s for their goroutines to
// end) and then the media sockets. Rooms made after it are closed.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	rooms := make([]*Room, 0, len(s.rooms))
	for r := range s.rooms {
		rooms = append(rooms, r)
	}
	s.mu.Unlock()
	deadline := time.After(5 * time.Second)
	for _, r := range rooms {
		r.Closed()
	}
	for _, r := range rooms {
		select {
		case <-r.Done():
		case <-deadline:
		}
	}
	return s.closeSockets()
}

func (s *Server) closeSockets() error {
	var errs []error
	if s.tcpMux != nil {
		errs = append(errs, s.tcpMux.Close())
	}
	if s.tcpLn != nil {
		_ = s.tcpLn.Close() // the TCP mux closes it too
	}
	if s.udpMux != nil {
		errs = append(errs, s.udpMux.Close())
	}
	return errors.Join(errs...)
}
