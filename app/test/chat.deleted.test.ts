/**
 * A deleted account in the app's state (docs/http-api.md, "Deleting the account"): the server
 * sends `{ id, handle: '', displayName: '', deleted: true }`, and every name the app shows for it
 * is "Deleted account", in a 1:1 chat's title and in a group's sender names, even where its old
 * profile was known before.
 */
import t from 'tap';
import { learn, takeMembers } from '../src/lib/chat/members.ts';
import { emptyRoom } from '../src/lib/chat/state.ts';
import { DELETED_NAME, nameIn, shownName, titleOf, withDeletedAccount } from '../src/lib/chat/view.ts';

const ME = 1;
const ANN = 2;
const gone = { id: ANN, handle: '', displayName: '', deleted: true as const };

t.test('a 1:1 chat with a deleted account is titled "Deleted account" and marked as such', async (t) => {
  const room = emptyRoom('1-2', [{ id: ME, handle: 'me', displayName: 'Me' }, { id: ANN, handle: 'ann', displayName: 'Ann' }]);
  t.equal(titleOf(room, ME), 'Ann', 'before: her name');
  t.notOk(withDeletedAccount(room, ME), 'and a chat like any other');
  takeMembers(room, [{ id: ME, handle: 'me', displayName: 'Me', online: true }, { ...gone, online: false }], 5);
  t.equal(titleOf(room, ME), DELETED_NAME, 'after a sync that says so: "Deleted account"');
  t.ok(withDeletedAccount(room, ME), 'and marked deleted');
  t.equal(nameIn(room, ANN), DELETED_NAME, 'her messages\' sender too');
});

t.test('a deleted sender who left a group is named "Deleted account" from what the room learnt', async (t) => {
  const room = emptyRoom('g-1', [{ id: ME, handle: 'me', displayName: 'Me' }]);
  learn(room, [{ id: ANN, handle: 'ann', displayName: 'Ann' }]);
  t.equal(nameIn(room, ANN), 'Ann', 'known by name while she had an account');
  learn(room, [gone]);
  t.equal(nameIn(room, ANN), DELETED_NAME, 'and as "Deleted account" once the room learns she deleted it');
  t.equal(shownName(gone), DELETED_NAME, 'any profile of a deleted account shows that name');
  t.equal(shownName({ id: 3, handle: 'cat', displayName: '' }), 'cat', 'others their name, else their handle');
});
