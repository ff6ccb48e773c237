package client

import (
	"context"

	"roomkit/server/protocol"
)

// MediaOffer sends this page's SDP offer for its media connection in
// room roomID and returns the server's answer. The server asks for a new
// offer with a mediaRenegotiate event.
func (c *Client) MediaOffer(ctx context.Context, req protocol.MediaOfferRequest) (protocol.MediaAnswer, error) {
	return call[protocol.MediaAnswer](ctx, c, protocol.OpMediaOffer, req)
}

// MediaSubscribe says whose video this page receives in room roomID (the
// tiles it shows).
func (c *Client) MediaSubscribe(ctx context.Context, req protocol.MediaSubscribeRequest) (struct{}, error) {
	return call[struct{}](ctx, c, protocol.OpMediaSubscribe, req)
}

// MediaAnswered says this page has set the answer to its last offer in
// room roomID: what that answer started sending comes from now on.
func (c *Client) MediaAnswered(ctx context.Context, req protocol.MediaAnsweredRequest) (struct{}, error) {
	return call[struct{}](ctx, c, protocol.OpMediaAnswered, req)
}

// MediaCandidate sends one of this page's trickled ICE candidates, after
// its offer.
func (c *Client) MediaCandidate(ctx context.Context, req protocol.MediaCandidateRequest) (struct{}, error) {
	return call[struct{}](ctx, c, protocol.OpMediaCandidate, req)
}
