// The names the SDK guides' samples take as given: a logged-in room client and
// a call kit, made earlier on the page.
declare const zim: import('../roomkit.js').RoomKitClient;
declare const zp: import('../roomkit.js').CallKit;
// The invitation guide declares CallingInvitationListConfig with the hosted SDK's name
// for a user.
type ZegoUser = import('../roomkit.js').ZegoUser;
