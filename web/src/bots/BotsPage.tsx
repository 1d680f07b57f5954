// The Bots section: #/bots (the list), #/bots/new?connection=NAME (the form), #/bots/view/NAME (a bot).
import { useEffect, useState } from "react";
import { BotForm } from "./BotForm";
import { BotList } from "./BotList";
import { BotView } from "./BotView";
import { parseBotsHash, type BotsView } from "./model";
import "./bots.css";

export function BotsPage() {
  const [view, setView] = useState<BotsView>(() => parseBotsHash(window.location.hash));
  useEffect(() => {
    const onChange = () => setView(parseBotsHash(window.location.hash));
    window.addEventListener("hashchange", onChange);
    return () => window.removeEventListener("hashchange", onChange);
  }, []);
  switch (view.page) {
    case "new":
      return <BotForm key={view.connection ?? ""} connection={view.connection} />;
    case "bot":
      return <BotView key={view.name} name={view.name} />;
    default:
      return <BotList />;
  }
}
