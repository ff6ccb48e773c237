// The SDK guides' sample code, as our users paste it, type-checked against
// js/roomkit.d.ts with \`tsc --strict\` (make typecheck, part of make test).
// Only the global names are bound (below); the samples are verbatim, each
// in a block of its own, except that a blank the guide leaves for the app to
// fill (\`const appID = ;\`) is filled.

import { RoomKit } from '../roomkit.js';

// zim (a logged-in room client) and zp (a call kit) are declared in
// globals.d.ts, as a page's own code would have them. The module is loaded
// once, before the samples run.
await RoomKit.init({ wasmURL: '/js/roomkit.wasm', onProgress: ({ loaded, total }) => console.log(loaded, total) });
const ZegoUIKitPrebuilt = RoomKit;
const ZoomVideo = RoomKit;

// the call kit's resume-after-refresh guide, sample 1
{
  zp.joinRoom({
      onJoinRoom: () => {
          // Get the roomID
          const roomID = zp.getRoomID();
          // Store it in sessionStorage
          sessionStorage.setItem('roomID', roomID);
      }   
  });
}

// the call kit's resume-after-refresh guide, sample 2
{
  zp.setCallInvitationConfig({
      onSetRoomConfigBeforeJoining: () => {
          // Get the roomID
          const roomID = zp.getRoomID();
          // Store it in sessionStorage
          sessionStorage.setItem('roomID', roomID);
          return {
              // Disable the functionality of automatically exiting the room when there is only one person left in the room
              autoLeaveRoomWhenOnlySelfInRoom: false,
          }
      }
  });
}

// the call kit's resume-after-refresh guide, sample 3
{
  if (sessionStorage.getItem('roomID')){
      // Generate Kit Token
      const appID = 0; // filled in by the app
      const token = "";
      const roomID = sessionStorage.getItem('roomID');
      const userID = "";
      const userName = "userName" + userID;    
      const kitToken = ZegoUIKitPrebuilt.generateKitTokenForProduction(appID, token, roomID, userID, userName);

      // Create an instance object using the Kit Token.
      const zp = ZegoUIKitPrebuilt.create(kitToken);
      zp.joinRoom({
          // Hide the pre-join check view
          showPreJoinView: false,
      });
  }
}

// the room-messaging SDK's room guide, sample 1
{
  var roomInfo = { roomID: '', roomName: '' };
  zim.createRoom(roomInfo)
      .then(function ({ roomInfo }) {
          // Operation successful. 
      })
      .catch(function (err) {
          // Operation failed. 
      });
}

// the room-messaging SDK's room guide, sample 2
{
  var roomID = '';
  zim.joinRoom(roomID)
      .then(function ({ roomInfo }) {
          // Operation successful. 
      })
      .catch(function (err) {
          // Operation failed. 
      });
}

// the room-messaging SDK's room guide, sample 3
{
  // Callback for receiving event notification when new room members join the room. And it also returns the information of the user who just joined the room. 
  zim.on('roomMemberJoined', function (zim, { roomID, memberList }) {
      console.log(roomID, memberList);
  });
}

// the room-messaging SDK's room guide, sample 4
{
  var roomInfo = { roomID: '', roomName: '' };
  zim.enterRoom(roomInfo)
      .then(function ({ roomInfo }) {
          // Operation successful. 
      })
      .catch(function (err) {
          // Operation failed. 
      });

  // Callback for receiving event notification when new room members join the room. And it also returns the information of the user who just joined the room. 
  zim.on('roomMemberJoined', function (zim, { roomID, memberList }) {
      console.log(roomID, memberList);
  });
}

// the room-messaging SDK's room guide, sample 5
{
  const fromRoomID = 'fromRoomID';
  const toRoomInfo = { roomID: 'toRoomID', roomName: 'toRoomName' };

  // Whether to create a room if it does not exist.
  // Only when this is true and the target room does not exist, the toRoomName and config in toRoomInfo are meaningful
  const isCreateWhenRoomNotExisted = true;

  // Advanced configuration for creating a room
  const to_room_attr = {
      key1: 'value1', // Replace this code to the actual key-value pair
      key2: 'value2', // Another key-value pair
      // You can add more pairs
  };

  // Set room destruction delay time (in seconds)
  const to_room_delay_destroy_time = 90; 

  const config = {
      roomAttributes: to_room_attr,
      roomDestroyDelayTime: to_room_delay_destroy_time,
  };

  zim.switchRoom(fromRoomID, toRoomInfo, isCreateWhenRoomNotExisted, config)
      .then(function (res) {
          // Operation successful
      })
      .catch(function (err) {
          // Operation failed
      });
}

// the room-messaging SDK's room guide, sample 6
{
  var roomID = '';
  zim.leaveRoom(roomID)
      .then(function ({ roomID }) {
          // Operation successful. 
      })
      .catch(function (err) {
          // Operation failed. 
      });
}

// the room-messaging SDK's room guide, sample 7
{
  // Callback for receiving event notification when existing room members leave the room. And it also returns the information of the user who just left the room. 
  zim.on('roomMemberLeft', function (zim, { roomID, memberList }) {
      console.log(roomID, memberList);
  });
}

// the room-messaging SDK's room guide, sample 8
{
  var roomIDs = /** @type {string[]} */ ([]);
  zim.leaveAllRoom(roomIDs)
      .then(function ({ roomIDs }) {
          // Operation successful.
      })
      .catch(function (err) {
          // Operation failed.
      });
}

// the call kit's in-call invitation guide, sample 1
{
  zp.setCallInvitationConfig({
      // Whether to enable the feature of inviting users to an ongoing call. 
      // The default value is false
      canInvitingInCalling: true,
      // Whether only the call initiator can invite users to the ongoing call.
      // The default value is false
      onlyInitiatorCanInvite: true,
  })
}

// the video SDK's session life-cycle guide, sample 1
{
  var client = ZoomVideo.createClient();
  var stream;
  client.init("en-US", "Global", { patchJsMedia: true }).then(() => {
      client
          .join("sessionName", "VIDEO_SDK_JWT", "userName", "sessionPasscode")
          .then(() => {
              stream = client.getMediaStream();
          });
  });
}

// the video SDK's session life-cycle guide, sample 2
{
  var client = ZoomVideo.createClient();
  var stream;
  await client.init("en-US", "Global", { patchJsMedia: true });
  await client.join(
      "sessionName",
      "VIDEO_SDK_JWT",
      "userName",
      "sessionPasscode",
  );
  stream = client.getMediaStream();
}

// the video SDK's session life-cycle guide, sample 3
{
  client.leave();
}

// the video SDK's session life-cycle guide, sample 4
{
  client.leave(true);
}
