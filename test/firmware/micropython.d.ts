/** The part of the MicroPython WebAssembly package the TypeScript tests use (it ships no types). */
declare module '@micropython/micropython-webassembly-pyscript' {
  export function loadMicroPython(options?: {
    stdout?: (line: string) => void;
    stderr?: (line: string) => void;
    linebuffer?: boolean;
    heapsize?: number;
  }): Promise<{ runPython(code: string): unknown }>;
}
