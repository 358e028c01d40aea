// Flashing MicroPython through the ESP32 ROM bootloader: what `mothership provision --micropython` uses.
export {
  type FlashOptions,
  type FlashProgress,
  type FlashResult,
  flashMicroPython,
} from './flash-micropython.js';
export { flashImageFile } from './flash-port.js';
export { type ModemSignals, type SerialLink, type SerialPortLike, serialPortLink } from './link.js';
