// The data behind a connection's order ticket: the ticket's figures for a pair, and the connection's
// orders. Loaded when the panel opens and after each order or cancel; no polling (the user refreshes).
import { useCallback, useEffect, useRef, useState } from "react";
import { api } from "../api/endpoints";
import type { Order, TicketInfo } from "../api/types";

export interface TradeData {
  ticket: TicketInfo | null;
  /** The error of the last ticket load (an unknown pair, the exchange unreachable), or null. */
  ticketError: unknown;
  ticketBusy: boolean;
  orders: Order[] | null;
  ordersError: unknown;
  ordersBusy: boolean;
  loadTicket: (pair?: string) => Promise<void>;
  loadOrders: () => Promise<void>;
}

export function useTrade(connectionId: string): TradeData {
  const [ticket, setTicket] = useState<TicketInfo | null>(null);
  const [ticketError, setTicketError] = useState<unknown>(null);
  const [ticketBusy, setTicketBusy] = useState(true);
  const [orders, setOrders] = useState<Order[] | null>(null);
  const [ordersError, setOrdersError] = useState<unknown>(null);
  const [ordersBusy, setOrdersBusy] = useState(true);
  // Only the newest ticket request may land: a slow answer for the previous pair must not overwrite it.
  const ticketSeq = useRef(0);
  const mounted = useRef(true);

  const loadTicket = useCallback(
    async (pair?: string) => {
      const seq = ++ticketSeq.current;
      setTicketBusy(true);
      try {
        const info = await api.ticket(connectionId, pair);
        if (!mounted.current || seq !== ticketSeq.current) return;
        setTicket(info);
        setTicketError(null);
      } catch (error) {
        if (!mounted.current || seq !== ticketSeq.current) return;
        setTicketError(error);
      } finally {
        if (mounted.current && seq === ticketSeq.current) setTicketBusy(false);
      }
    },
    [connectionId],
  );

  const loadOrders = useCallback(async () => {
    setOrdersBusy(true);
    try {
      const found = await api.orders(connectionId);
      if (!mounted.current) return;
      setOrders(found);
      setOrdersError(null);
    } catch (error) {
      if (mounted.current) setOrdersError(error);
    } finally {
      if (mounted.current) setOrdersBusy(false);
    }
  }, [connectionId]);

  useEffect(() => {
    mounted.current = true;
    void loadTicket();
    void loadOrders();
    return () => {
      mounted.current = false;
    };
  }, [loadTicket, loadOrders]);

  return { ticket, ticketError, ticketBusy, orders, ordersError, ordersBusy, loadTicket, loadOrders };
}
