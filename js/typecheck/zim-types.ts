// Code written against the room-messaging SDK's type names, type-checked
// against js/roomkit.d.ts: its aliases, and state and event unions narrow
// enough to catch a wrong value.

import { ZIMErrorCode, ZIMRoomEvent, ZIMRoomState, ZIMConnectionState } from '../roomkit.js';
import type { ZIMError, ZIMRoomAdvancedConfig, ZIMRoomFullInfo, ZIMRoomInfo, ZIMUserInfo } from '../roomkit.js';

const roomInfo: ZIMRoomInfo = { roomID: 'room', roomName: 'Room' };
const config: ZIMRoomAdvancedConfig = { roomAttributes: { topic: 'launch' }, roomDestroyDelayTime: 90 };

zim.enterRoom(roomInfo, config)
  .then(({ roomInfo }: { roomInfo: ZIMRoomFullInfo }) => console.log(roomInfo.baseInfo.roomID))
  .catch((error: ZIMError) => {
    if (error.code !== ZIMErrorCode.SUCCESS) console.log(error.code, error.message);
  });

zim.on('roomMemberJoined', (z, { roomID, memberList }) => {
  const users: ZIMUserInfo[] = memberList;
  console.log(roomID, users.map((u) => u.userName));
});

zim.on('roomStateChanged', (z, { roomID, state, event, extendedData }) => {
  const s: ZIMRoomState = state;
  const e: ZIMRoomEvent = event;
  if (s === ZIMRoomState.Disconnected && e === ZIMRoomEvent.KickedOut) console.log(roomID, 'removed', extendedData);
  // @ts-expect-error a room state is one of RoomState's values, not any number
  const wrong: ZIMRoomState = 7;
  console.log(wrong);
});

zim.on('connectionStateChanged', (z, { state }) => {
  if (state === ZIMConnectionState.Reconnecting) console.log('reconnecting');
});
