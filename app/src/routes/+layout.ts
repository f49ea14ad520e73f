// A client-only SPA: the router serves index.html for every path (sirv's SPA fallback).
export const ssr = false;
export const prerender = false;
export const trailingSlash = 'never';
