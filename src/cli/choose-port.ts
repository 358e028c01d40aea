/** The board's serial port when --port is not given: the one ESP32 on USB, or the user's pick of several. */
import { askBoardPort } from '../devices/serial/ask-board-port.js';
import { findBoardPort } from '../devices/serial/find-board-port.js';

export function choosePort(): Promise<string> {
  return findBoardPort(
    process.stdin.isTTY ? { choose: (c) => askBoardPort(c, process.stdin, process.stderr) } : {},
  );
}
