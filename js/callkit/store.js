// The call's state as the room tells it: its members (name, role, and the
// microphone, camera and share flags each publishes) and its chat
// messages. The room events (events.js) and the member list query (load)
// feed it; the views read it. It holds no DOM and calls nothing back.
// This file has no imports.

// memberState is what the member list shows of a room member.
export function memberState(m) {
  return { userName: m.userName, role: m.role || 'participant', audio: !!m.audio, video: !!m.video, share: !!m.share };
}

export class CallStore {
  constructor() {
    this.members = new Map(); // userID -> { userName, role, audio, video, share, places }
    this.messages = [];       // chat messages of this call, oldest first
    this.avatars = new Map(); // userID -> the avatar image URL the page set (onUserAvatarSetter)
  }

  // load reads the member list, page by page (queryPage(nextFlag) is a
  // page of queryRoomMemberList), and takes it as the members once all of
  // it is read.
  async load(queryPage) {
    const members = new Map();
    let nextFlag = '';
    do {
      const page = await queryPage(nextFlag);
      for (const m of page.memberList) {
        const cur = members.get(m.userID);
        members.set(m.userID, { ...memberState(m), places: (cur?.places ?? 0) + 1 });
      }
      nextFlag = page.nextFlag;
    } while (nextFlag);
    this.members = members;
  }

  // joined counts one more place (page) of member m; it returns true
  // when that is m's first, and m a new member.
  joined(m) {
    const cur = this.members.get(m.userID);
    this.members.set(m.userID, { ...memberState(m), places: (cur?.places ?? 0) + 1 });
    return !cur;
  }

  // left counts one place of member m less; it returns true when that was
  // m's last, and m is no longer a member.
  left(m) {
    const cur = this.members.get(m.userID);
    if (cur && cur.places > 1) {
      cur.places--;
      return false;
    }
    this.members.delete(m.userID);
    return true;
  }

  // updated takes member m's new state, if m is a member.
  updated(m) {
    const cur = this.members.get(m.userID);
    if (cur) Object.assign(cur, memberState(m));
  }

  // onlySelfLeft is whether me, on this page alone, is all the call has.
  onlySelfLeft(me) {
    return this.members.size === 1 && this.members.has(me) && this.members.get(me).places === 1;
  }
}
