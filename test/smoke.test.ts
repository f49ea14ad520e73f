import t from 'tap';
import { directRoomId } from '../protocol/frames.ts';
t.equal(directRoomId(10, 9), '9-10', 'sorted numerically');
