// The in-call invitation guide's sample that declares a TypeScript
// interface: TypeScript, so type-checked as such (see sdk-samples.js).

// the call kit's in-call invitation guide, sample 2
{
  interface CallingInvitationListConfig {
      waitingSelectUsers: ZegoUser[]; // user members waiting to be invited
      defaultChecked?: boolean; // Whether to select the members to be invited by default. The default value is true
  }
  // before join room
  zp.setCallInvitationConfig({
      onSetRoomConfigBeforeJoining() {
          return {
              // Should the invitation view be displayed on the inviter's interface? This view allows the user to cancel the invitation.
              showWaitingCallAcceptAudioVideoView: true,
              // Define the invitee list
              // The list can include up to 9 users.
              callingInvitationListConfig: {
                  waitingSelectUsers: [{userID:'123',userName:'U_123'}],
                  // Whether the users in the list are checked by default
                  defaultChecked: true,
              },
          }
      }
  })

  // after join room
  zp.updateCallingInvitationListConfig({
      waitingSelectUsers: [{userID:'456',userName:'U_456'}],
      defaultChecked: true,
  })
}

