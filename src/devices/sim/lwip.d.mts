export declare const SND_BUF: number;
export declare const MAX_SOCKETS: number;
export declare const ERRNO: {
  EBADF: number;
  ENFILE: number;
  ECONNRESET: number;
  ECONNABORTED: number;
  ETIMEDOUT: number;
  EHOSTUNREACH: number;
};
export declare function lwipErrno(code: string | undefined): number;
export declare const SYN_GIVE_UP_MS: number;
