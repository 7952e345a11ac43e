import { mount } from "svelte";
import App from "./App.svelte";
import "./app.css";
import { markOnce } from "./lib/marks";

markOnce("script");
const target = document.getElementById("app");
if (!target) throw new Error("the page has no #app element");
const app = mount(App, { target });
markOnce("mounted");
export default app;
