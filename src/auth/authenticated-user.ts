/** Who a verified token speaks for: what the HTTP guard and the socket middleware attach. */
export interface AuthenticatedUser {
  id: number;
  username: string;
  isStaff: boolean;
  /** When the token stops being valid, in ms since the epoch (its `exp`). */
  expiresAt: number;
}
